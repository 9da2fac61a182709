"""Test data. Related objects agree: a partner's activities and leads belong to its assigned rep by default, and a
partner's engagement dates are what the services would have set (its due date follows from its tier)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from activities.models import Activity
from business.models import Achievement, Parameter, Target
from leads.customer_services import customer_engagement_set
from leads.models import CustomerContact, CustomerLocation, CustomerSegment, Lead
from partners.models import ContactPoint, Location, Partner, Tier
from partners.roles import MANAGER, SALES_REP
from partners.services import partner_engagement_set, partners_search_refresh

User = get_user_model()
PASSWORD = "demo-pass-123"


def tier(name="Gold"):
    """Tiers come from the data migration: Platinum (7 days), Gold (14), Silver (30)."""
    return Tier.objects.get(name=name)


def parameter(code=Parameter.REVENUE):
    return Parameter.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


def rep_user(**kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=SALES_REP))
    return user


def manager_user(**kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=MANAGER))
    return user


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        skip_postgeneration_save = True  # engagement_dates writes through the service

    code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"Partner {n}")
    kind = Partner.Kind.ORGANISATION
    tier = factory.LazyFunction(lambda: tier("Gold"))
    assigned_to = factory.SubFactory(UserFactory)
    status = Partner.Status.ACTIVE

    @factory.post_generation
    def engagement_dates(partner, create, extracted, **kwargs):
        """The due date a real partner has: its last engagement (none yet: its creation) + its tier's frequency.
        A test that passes ``engagement_due_at`` itself keeps it."""
        if create and partner.engagement_due_at is None:
            partner_engagement_set(
                partner=partner, last_engaged_at=partner.last_engaged_at, next_engagement_at=partner.next_engagement_at
            )

    @factory.post_generation
    def search_document(partner, create, extracted, **kwargs):
        """Searchable like a partner saved through the services."""
        if create:
            partners_search_refresh(partner_ids=[partner.pk])


class ContactPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPoint
        skip_postgeneration_save = True

    partner = factory.SubFactory(PartnerFactory)
    kind = ContactPoint.Kind.MOBILE
    value = factory.Sequence(lambda n: f"+9198{n:08d}")
    is_primary = False

    @factory.post_generation
    def search_document(contact, create, extracted, **kwargs):
        """The partner's search document includes its contact values, as partners.services keeps it."""
        if create:
            partners_search_refresh(partner_ids=[contact.partner_id])


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    partner = factory.SubFactory(PartnerFactory)
    label = "Office"
    address = factory.Sequence(lambda n: f"{n} MG Road, Bengaluru")
    latitude = Decimal("12.975000")
    longitude = Decimal("77.605000")
    is_primary = False


class ActivityFactory(factory.django.DjangoModelFactory):
    """A raw activity row. Tests of engagement behaviour go through activities.services instead."""

    class Meta:
        model = Activity

    partner = factory.SubFactory(PartnerFactory)
    owner = factory.LazyAttribute(lambda a: a.partner.assigned_to)
    kind = Activity.Kind.CALL
    mode = Activity.Mode.LOGGED
    status = Activity.Status.DONE
    start_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    duration_minutes = 30


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Sequence(lambda n: f"Lead {n}")
    partner = factory.SubFactory(PartnerFactory)
    assigned_to = factory.LazyAttribute(lambda lead: lead.partner.assigned_to if lead.partner else None)
    stage = Lead.Stage.NEW
    expected_value = Decimal("1000.00")
    created_at = factory.LazyFunction(timezone.now)


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    partner = factory.SubFactory(PartnerFactory)
    parameter = factory.LazyFunction(lambda: parameter(Parameter.REVENUE))
    period_start = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    value = Decimal("1000")
    set_by = factory.LazyAttribute(lambda t: t.partner.assigned_to)


class AchievementFactory(factory.django.DjangoModelFactory):
    """A generated value; ``source`` says where it came from (computed by default, like the nightly metrics)."""

    class Meta:
        model = Achievement

    partner = factory.SubFactory(PartnerFactory)
    parameter = factory.LazyFunction(lambda: parameter(Parameter.REVENUE))
    period_start = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    value = Decimal("700")
    source = Achievement.Source.COMPUTED


# --- Added for the dashboard views (issue 3) ------------------------------------------------------------------------


class ProfileFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "partners.ProfileField"

    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    kind = "text"
    order = factory.Sequence(lambda n: n)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Customer"
        skip_postgeneration_save = True  # engagement_dates writes through the service

    name = factory.Sequence(lambda n: f"Customer {n}")
    partner = factory.SubFactory(PartnerFactory)
    assigned_to = factory.LazyAttribute(lambda c: c.partner.assigned_to if c.partner else None)

    @factory.post_generation
    def engagement_dates(customer, create, extracted, **kwargs):
        """The due date a real customer has (issue 13): its creation + its segment's (or the default's) frequency.
        A test that passes ``engagement_due_at`` itself keeps it."""
        if create and customer.engagement_due_at is None:
            customer_engagement_set(customer=customer, last_engaged_at=customer.last_engaged_at,
                                    next_engagement_at=customer.next_engagement_at)


def partner_with_contacts(**kwargs):
    """A partner with a primary mobile, email and WhatsApp, a second (non-primary) phone, and a primary location."""
    partner = PartnerFactory(**kwargs)
    ContactPointFactory(partner=partner, kind=ContactPoint.Kind.MOBILE, is_primary=True)
    ContactPointFactory(partner=partner, kind=ContactPoint.Kind.PHONE, value="+91 80 1234 5678", is_primary=False)
    ContactPointFactory(
        partner=partner, kind=ContactPoint.Kind.EMAIL, value=f"{partner.code.lower()}@example.com", is_primary=True
    )
    ContactPointFactory(partner=partner, kind=ContactPoint.Kind.WHATSAPP, is_primary=True)
    LocationFactory(partner=partner, is_primary=True)
    return partner


# --- Customers (issue 13) ---------------------------------------------------------------------------------------------


class CustomerContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerContact

    customer = factory.SubFactory(CustomerFactory)
    kind = ContactPoint.Kind.MOBILE
    value = factory.Sequence(lambda n: f"+9197{n:08d}")
    is_primary = False


class CustomerLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerLocation

    customer = factory.SubFactory(CustomerFactory)
    label = "Shop"
    address = factory.Sequence(lambda n: f"{n} Brigade Road, Bengaluru")
    latitude = Decimal("12.971000")
    longitude = Decimal("77.607000")
    is_primary = False


def segment(name="Standard"):
    """The default segment "Standard" (30 days) comes from the data migration."""
    return CustomerSegment.objects.get(name=name)


def customer_with_contacts(**kwargs):
    """A customer with a primary mobile and email, a second (non-primary) phone, and a primary location."""
    customer = CustomerFactory(**kwargs)
    CustomerContactFactory(customer=customer, kind=ContactPoint.Kind.MOBILE, is_primary=True)
    CustomerContactFactory(customer=customer, kind=ContactPoint.Kind.PHONE, value="+91 80 2222 3333")
    CustomerContactFactory(customer=customer, kind=ContactPoint.Kind.EMAIL, value=f"c{customer.pk}@example.com",
                           is_primary=True)
    CustomerLocationFactory(customer=customer, is_primary=True)
    return customer


# --- Service tickets (issue 13) ---------------------------------------------------------------------------------------


def ticket(customer=None, *, by=None, **kwargs):
    """A ticket opened through ``service.services.ticket_create`` (due dates from its priority's service level, its
    first history row). ``by`` defaults to the customer's rep; ``assignee`` to nobody."""
    from service.services import ticket_create  # noqa: PLC0415 (only the ticket tests need the service app loaded)

    customer = customer or CustomerFactory()
    kwargs.setdefault("subject", f"Ticket of {customer.name}")
    return ticket_create(customer=customer, by=by if by is not None else customer.assigned_to, **kwargs)


class TicketFactory(factory.django.DjangoModelFactory):
    """A raw ticket row for bulk data (query counts, lists): due dates as the default service levels give them.
    Behaviour tests open tickets with ``ticket()`` (the service) instead."""

    class Meta:
        model = "service.Ticket"

    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Sequence(lambda n: f"Ticket {n}")
    priority = "normal"
    status = "open"
    assignee = factory.LazyAttribute(lambda t: t.customer.assigned_to)
    created_by = factory.LazyAttribute(lambda t: t.customer.assigned_to)
    created_at = factory.LazyFunction(timezone.now)
    first_response_due_at = factory.LazyAttribute(
        lambda t: t.created_at + timedelta(minutes=_sla_minutes(t.priority)[0]))
    resolution_due_at = factory.LazyAttribute(lambda t: t.created_at + timedelta(minutes=_sla_minutes(t.priority)[1]))


def _sla_minutes(priority):
    from service.sla import DEFAULT_LEVELS  # noqa: PLC0415

    return DEFAULT_LEVELS[priority]
