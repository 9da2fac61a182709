"""leads.customer_services: creating a customer from a won lead, profile edits, contacts and locations, the engagement
due date and the segments' set-based refresh. Against the real PostgreSQL, no mocks."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads import customer_services as services
from leads.models import Customer, CustomerContact, CustomerLocation, CustomerSegment
from leads.services import lead_convert
from tests import factories

pytestmark = pytest.mark.django_db


def days_between(later, earlier):
    return round((later - earlier).total_seconds() / 86400)


# --- From a lead --------------------------------------------------------------------------------------------------


def test_converting_a_lead_creates_its_customer_due_after_the_default_segment(rep):
    lead = factories.LeadFactory(name="Ravi Stores", company="Ravi & Sons", email="ravi@example.com",
                                 phone="+91 98450 00001", partner=factories.PartnerFactory(assigned_to=rep))
    customer = lead_convert(lead=lead, by=rep)
    customer.refresh_from_db()
    assert (customer.name, customer.company, customer.email, customer.phone) == (
        "Ravi Stores", "Ravi & Sons", "ravi@example.com", "+91 98450 00001")
    assert (customer.lead_id, customer.partner_id, customer.assigned_to_id) == (lead.pk, lead.partner_id, rep.pk)
    assert customer.segment is None and customer.last_engaged_at is None
    assert customer.engagement_due_at == customer.created_at + timedelta(days=30)  # "Standard", the default


def test_converting_twice_makes_one_customer(rep):
    lead = factories.LeadFactory(partner=factories.PartnerFactory(assigned_to=rep))
    lead_convert(lead=lead, by=rep)
    with pytest.raises(ValidationError, match="already won"):
        lead_convert(lead=lead, by=rep)
    assert Customer.objects.filter(lead=lead).count() == 1


# --- Profile ------------------------------------------------------------------------------------------------------


def test_update_changes_only_what_changed_and_a_new_segment_moves_the_due_date(rep):
    customer = factories.CustomerFactory(assigned_to=rep)
    weekly = CustomerSegment.objects.create(name="Key accounts", engage_every_days=7)
    changed = services.customer_update(customer=customer, by=rep, name=customer.name, segment=weekly,
                                       website="https://ravi.example.com")
    assert changed == ["segment", "website"]
    customer.refresh_from_db()
    assert customer.engagement_due_at == customer.created_at + timedelta(days=7)
    assert services.customer_update(customer=customer, by=rep, segment=weekly) == []


def test_update_refuses_unknown_fields_and_bad_values_writing_nothing(rep):
    customer = factories.CustomerFactory(assigned_to=rep, name="Before")
    with pytest.raises(TypeError):
        services.customer_update(customer=customer, by=rep, engagement_due_at=timezone.now())
    with pytest.raises(ValidationError) as error:
        services.customer_update(customer=customer, by=rep, name="After", email="not an email")
    assert "email" in error.value.message_dict
    assert Customer.objects.get(pk=customer.pk).name == "Before"


def test_save_is_all_or_nothing(rep):
    customer = factories.customer_with_contacts(assigned_to=rep, name="Before")
    contacts_before = list(CustomerContact.objects.filter(customer=customer).values_list("value", flat=True))
    with pytest.raises(ValidationError):
        services.customer_save(
            customer=customer, by=rep, fields={"name": "After"},
            contacts=[{"id": None, "kind": "mobile", "value": "+91 90000 00000", "is_primary": True}],
            locations=[{"id": None, "address": "Somewhere", "latitude": 200, "longitude": 0}],  # out of range
        )
    assert Customer.objects.get(pk=customer.pk).name == "Before"
    assert list(CustomerContact.objects.filter(customer=customer).values_list("value", flat=True)) == contacts_before


# --- Contacts and locations -------------------------------------------------------------------------------------------


def test_contacts_and_locations_become_exactly_the_lists_with_one_primary_each(rep):
    customer = factories.customer_with_contacts(assigned_to=rep)
    other = factories.customer_with_contacts(assigned_to=rep)
    mobile = customer.contacts.get(kind="mobile")
    foreign = other.contacts.get(kind="mobile")
    services.customer_save_contacts_and_locations(
        customer=customer,
        contacts=[
            {"id": mobile.pk, "kind": "mobile", "value": mobile.value, "is_primary": False},
            {"id": None, "kind": "mobile", "value": "+91 90000 00002", "is_primary": True},  # the primary moves
            {"id": foreign.pk, "kind": "whatsapp", "value": "+91 90000 00003"},  # another's id: a new row
        ],
        locations=[{"id": None, "label": "Shop", "address": "1 MG Road"}, {"id": None, "address": "2 MG Road"}],
    )
    rows = list(customer.contacts.order_by("id").values_list("kind", "value", "is_primary"))
    assert rows == [("mobile", mobile.value, False), ("mobile", "+91 90000 00002", True),
                    ("whatsapp", "+91 90000 00003", True)]  # the whatsapp got the kind's default primary
    assert other.contacts.filter(pk=foreign.pk, kind="mobile").exists()  # untouched
    assert list(customer.locations.order_by("id").values_list("address", "is_primary")) == [
        ("1 MG Road", True), ("2 MG Road", False)]


def test_two_primaries_are_refused_by_the_database(rep):
    customer = factories.CustomerFactory(assigned_to=rep)
    factories.CustomerContactFactory(customer=customer, kind="email", value="a@example.com", is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.CustomerContactFactory(customer=customer, kind="email", value="b@example.com", is_primary=True)


# --- Engagement dates ---------------------------------------------------------------------------------------------


def test_due_date_follows_the_last_engagement_and_the_segment(rep):
    customer = factories.CustomerFactory(assigned_to=rep)
    last = timezone.now() - timedelta(days=3)
    services.customer_engagement_set(customer=customer, last_engaged_at=last, next_engagement_at=None)
    customer.refresh_from_db()
    assert customer.last_engaged_at == last and customer.engagement_due_at == last + timedelta(days=30)


def test_no_default_segment_means_no_due_date_for_customers_without_one(rep):
    CustomerSegment.objects.filter(is_default=True).update(is_default=False)
    customer = factories.CustomerFactory(assigned_to=rep)
    assert Customer.objects.get(pk=customer.pk).engagement_due_at is None


# --- Segments -------------------------------------------------------------------------------------------------------


def test_a_new_frequency_moves_its_customers_due_dates_in_constant_queries(rep, django_assert_num_queries):
    weekly = CustomerSegment.objects.create(name="Key accounts", engage_every_days=7)
    mine = [factories.CustomerFactory(assigned_to=rep, segment=weekly) for _ in range(5)]
    others = [factories.CustomerFactory(assigned_to=rep) for _ in range(3)]  # the default segment's
    weekly.engage_every_days = 14
    # 1. savepoint, 2. the old row (locked), 3. the unique name check (full_clean), 4. the save (no "one default"
    # UPDATE: it is not the default), 5. one UPDATE of all the segment's customers, 6. release the savepoint.
    with django_assert_num_queries(6):
        services.segment_save(segment=weekly)
    for customer in Customer.objects.filter(pk__in=[c.pk for c in mine]):
        assert customer.engagement_due_at == customer.created_at + timedelta(days=14)
    for customer in Customer.objects.filter(pk__in=[c.pk for c in others]):
        assert days_between(customer.engagement_due_at, customer.created_at) == 30


def test_the_default_segments_frequency_applies_to_customers_without_a_segment(rep):
    customer = factories.CustomerFactory(assigned_to=rep)
    standard = factories.segment()
    standard.engage_every_days = 10
    services.segment_save(segment=standard)
    customer.refresh_from_db()
    assert customer.engagement_due_at == customer.created_at + timedelta(days=10)


def test_a_new_default_takes_over_customers_without_a_segment(rep):
    customer = factories.CustomerFactory(assigned_to=rep)
    services.segment_save(segment=CustomerSegment(name="Monthly+", engage_every_days=45, is_default=True))
    assert list(CustomerSegment.objects.filter(is_default=True).values_list("name", flat=True)) == ["Monthly+"]
    customer.refresh_from_db()
    assert customer.engagement_due_at == customer.created_at + timedelta(days=45)


def test_a_bad_frequency_is_refused_and_nothing_moves(rep):
    customer = factories.CustomerFactory(assigned_to=rep)
    due = customer.engagement_due_at
    standard = factories.segment()
    standard.engage_every_days = 0
    with pytest.raises(ValidationError) as error:
        services.segment_save(segment=standard)
    assert "engage_every_days" in error.value.message_dict
    assert Customer.objects.get(pk=customer.pk).engagement_due_at == due
    assert CustomerSegment.objects.get(pk=standard.pk).engage_every_days == 30


def test_deleting_a_segment_moves_its_customers_to_the_default(rep):
    weekly = CustomerSegment.objects.create(name="Key accounts", engage_every_days=7)
    customer = factories.CustomerFactory(assigned_to=rep, segment=weekly)
    assert services.segment_delete(segment=weekly) == 1
    customer.refresh_from_db()
    assert customer.segment is None and customer.engagement_due_at == customer.created_at + timedelta(days=30)
    with pytest.raises(ValidationError, match="default segment"):
        services.segment_delete(segment=factories.segment())
    assert CustomerLocation.objects.count() == 0  # (nothing else touched)
