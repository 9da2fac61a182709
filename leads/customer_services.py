"""Writes of customers: the only code that writes Customer, CustomerContact, CustomerLocation and CustomerSegment.

Views, the admin, ``leads.services.lead_convert`` (which creates the customer of a won lead) and the activities app
(which hands in a customer's last/next engagement, as it does a partner's to ``partners.services``) all go through
these functions. Like a partner, a customer carries denormalised ``last_engaged_at`` / ``next_engagement_at`` /
``engagement_due_at``: the due date is the last engagement (or the customer's creation) plus its segment's
``engage_every_days`` — the default segment's for a customer with no segment, none when there is no default.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Expression, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads.models import Customer, CustomerContact, CustomerLocation, CustomerSegment, Lead
from prm.child_rows import replace_child_rows, with_default_primary

User = AbstractBaseUser
# Fields of a customer a person may edit (the engagement dates are kept by activities; lead/partner are history).
EDITABLE_FIELDS = ("name", "company", "email", "phone", "website", "description", "segment", "assigned_to")
CONTACT_FIELDS = ("kind", "value", "label", "is_primary")
LOCATION_FIELDS = ("label", "address", "latitude", "longitude", "is_primary")


# --- One customer -----------------------------------------------------------------------------------------------------


def customer_lock(*, customer_id: int) -> Customer:
    """The customer row, locked until the end of the current transaction (changes to one customer serialise)."""
    return Customer.objects.select_for_update().get(pk=customer_id)


@transaction.atomic
def customer_create_from_lead(*, lead: Lead, when: datetime) -> Customer:
    """The customer of a won lead: its name and ways to reach it, its partner and rep, created at ``when`` and due
    for a first engagement one segment period later. Called by ``leads.services.lead_convert`` with the lead locked
    and just moved to won; the one-to-one ``lead`` column makes a second customer of the same lead impossible."""
    customer = Customer(
        name=lead.name,
        company=lead.company,
        email=lead.email,
        phone=lead.phone,
        lead=lead,
        partner_id=lead.partner_id,
        assigned_to_id=lead.assigned_to_id,
        created_at=when,
    )
    customer.save()
    customer_engagement_set(customer=customer, last_engaged_at=None, next_engagement_at=None)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, by: User | None, **fields: object) -> list[str]:
    """Change the editable fields of ``customer`` (EDITABLE_FIELDS); returns the names of the fields that changed.
    A new segment moves the due date (its frequency applies from now on)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected customer fields: {sorted(unknown)}")
    changed = [name for name, value in fields.items() if getattr(customer, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(customer, name, fields[name])
    customer.full_clean(exclude=["lead", "partner"], validate_unique=False, validate_constraints=False)
    customer.save(update_fields=[*changed, "updated_at"])
    if "segment" in changed:
        customer_engagement_set(
            customer=customer, last_engaged_at=customer.last_engaged_at,
            next_engagement_at=customer.next_engagement_at,
        )
    return changed


@transaction.atomic
def customer_save(
    *,
    customer: Customer,
    by: User | None,
    fields: dict[str, object],
    contacts: list[dict] | None = None,
    locations: list[dict] | None = None,
) -> Customer:
    """The edit page in one transaction: profile fields, contacts and locations, or nothing. The row is locked
    first, so two people saving the same customer serialise."""
    locked = customer_lock(customer_id=customer.pk)
    changed = customer_update(customer=locked, by=by, **fields)
    customer_save_contacts_and_locations(customer=locked, contacts=contacts, locations=locations)
    if not changed and (contacts is not None or locations is not None):
        # The API's sync order and ETag (api.pagination, api.writes): a customer whose contacts or locations were
        # saved moves to the end, like one whose fields changed.
        locked.updated_at = timezone.now()
        Customer.objects.filter(pk=locked.pk).update(updated_at=locked.updated_at)
    return locked


@transaction.atomic
def customer_save_contacts_and_locations(
    *, customer: Customer, contacts: list[dict] | None = None, locations: list[dict] | None = None
) -> None:
    """Make ``customer``'s contacts and/or locations exactly the given lists (``None`` leaves a list alone), as
    ``partners.services.partner_save_contacts_and_locations`` does for a partner.

    Each item is a dict of the model's fields plus ``id`` (an existing row of this customer, or None for a new one:
    an id of another customer's row counts as new); rows not listed are deleted. A kind with contacts but no primary
    gets its first one as primary (likewise the first location). Two primaries of one kind are the form's to refuse
    (with a message on the row); here they are a ValidationError, as is any invalid row, and nothing is written.
    Primaries are cleared first, so swapping one never collides."""
    if contacts is not None:
        replace_child_rows(owner_field="customer", owner=customer, model=CustomerContact,
                           items=with_default_primary(contacts, key=lambda item: item["kind"]), fields=CONTACT_FIELDS)
    if locations is not None:
        replace_child_rows(owner_field="customer", owner=customer, model=CustomerLocation,
                           items=with_default_primary(locations, key=lambda item: None), fields=LOCATION_FIELDS)


# --- Engagement dates -------------------------------------------------------------------------------------------------


def engage_every_days(*, segment_id: int | None) -> int | None:
    """How often a customer of segment ``segment_id`` (None: no segment, so the default segment) must be engaged, in
    days; None when there is no such segment (no default). One query."""
    segments = CustomerSegment.objects.filter(pk=segment_id) if segment_id else CustomerSegment.objects.filter(
        is_default=True
    )
    return segments.values_list("engage_every_days", flat=True).first()


def customer_engagement_set(
    *, customer: Customer, last_engaged_at: datetime | None, next_engagement_at: datetime | None
) -> None:
    """Store a customer's last/next engagement (computed by activities from its rows) and its due date: the last
    engagement (or the customer's creation) plus its segment's frequency (see ``engage_every_days``). Updates
    ``customer`` in memory too. Two queries."""
    customer.last_engaged_at = last_engaged_at
    customer.next_engagement_at = next_engagement_at
    days = engage_every_days(segment_id=customer.segment_id)
    customer.engagement_due_at = None
    if days is not None:
        customer.engagement_due_at = (last_engaged_at or customer.created_at) + timedelta(days=days)
    customer.updated_at = timezone.now()  # the API's sync order (api.pagination): a changed row moves to the end
    Customer.objects.filter(pk=customer.pk).update(
        last_engaged_at=customer.last_engaged_at,
        next_engagement_at=customer.next_engagement_at,
        engagement_due_at=customer.engagement_due_at,
        updated_at=customer.updated_at,
    )


def customers_due_refresh(*, customers: QuerySet[Customer], days: int | None) -> int:
    """Set-based: the due date of every customer of ``customers`` from ``days`` (their segment's frequency; None:
    no due date), in one UPDATE. Returns how many rows."""
    if days is None:
        return customers.update(engagement_due_at=None, updated_at=timezone.now())
    return customers.update(engagement_due_at=Coalesce("last_engaged_at", "created_at") + timedelta(days=days),
                            updated_at=timezone.now())


def customers_engagement_set_all(
    *, last_engaged_at: Expression, next_engagement_at: Expression, customer_ids: Iterable[int] | None = None
) -> None:
    """Set-based: last/next engagement of many customers (all, or ``customer_ids``) from expressions evaluated per
    customer row (activities passes subqueries over its table), then their due dates: one UPDATE, plus one per
    segment and one for the customers without a segment."""
    customers = Customer.objects.all() if customer_ids is None else Customer.objects.filter(pk__in=list(customer_ids))
    customers.update(last_engaged_at=last_engaged_at, next_engagement_at=next_engagement_at, updated_at=timezone.now())
    default_days = None
    for segment in CustomerSegment.objects.all():
        customers_due_refresh(customers=customers.filter(segment=segment), days=segment.engage_every_days)
        if segment.is_default:
            default_days = segment.engage_every_days
    customers_due_refresh(customers=customers.filter(segment__isnull=True), days=default_days)


# --- Segments ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def segment_save(*, segment: CustomerSegment) -> CustomerSegment:
    """Save a segment (the admin). When its frequency changes, or it becomes (or stops being) the default, the due
    dates that follow from it are recomputed set-based, in the same transaction: one UPDATE per group of customers
    whose frequency moved, whatever their number. Making a segment the default takes that role from the previous
    default (one default at most: a DB constraint)."""
    previous = (
        CustomerSegment.objects.select_for_update().filter(pk=segment.pk).values("engage_every_days", "is_default")
        .first() if segment.pk else None
    )
    segment.full_clean(validate_constraints=False)
    if segment.is_default:
        CustomerSegment.objects.filter(is_default=True).exclude(pk=segment.pk).update(is_default=False)
    segment.save()
    if previous is None:
        if segment.is_default:  # customers without a segment follow the new default now
            customers_due_refresh(customers=Customer.objects.filter(segment__isnull=True),
                                  days=segment.engage_every_days)
        return segment
    if previous["engage_every_days"] != segment.engage_every_days:
        customers_due_refresh(customers=Customer.objects.filter(segment=segment), days=segment.engage_every_days)
    if previous["is_default"] != segment.is_default or (
        segment.is_default and previous["engage_every_days"] != segment.engage_every_days
    ):
        customers_due_refresh(customers=Customer.objects.filter(segment__isnull=True),
                              days=engage_every_days(segment_id=None))
    return segment


@transaction.atomic
def segment_delete(*, segment: CustomerSegment) -> int:
    """Delete a segment that is not the default: its customers move to no segment, so the default's frequency, in
    one UPDATE (their due dates with it), then the row goes. Returns how many customers moved."""
    segment = CustomerSegment.objects.select_for_update().get(pk=segment.pk)
    if segment.is_default:
        raise ValidationError("The default segment can't be deleted: make another segment the default first.")
    days = engage_every_days(segment_id=None)
    moved = Customer.objects.filter(segment=segment)
    if days is None:
        count = moved.update(segment=None, engagement_due_at=None)
    else:
        count = moved.update(
            segment=None, engagement_due_at=Coalesce("last_engaged_at", "created_at") + timedelta(days=days)
        )
    segment.delete()
    return count
