"""Reads of customers. Who may see a customer is decided here and only here.

A sales rep sees the customers assigned to them and those brought by partners they see (a partner's rep follows its
customers); a manager (``partners.selectors.user_sees_all_partners``) sees every customer. Query budgets are part of
each function's docstring and asserted in tests/customers.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, JSONField, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils import timezone

from leads.customer_filters import CustomerFilter
from leads.models import Customer, CustomerSegment
from partners.contacts import QUICK_ACTION_KINDS
from partners.models import ContactPoint, Location, Partner
from partners.selectors import (
    COUNT_CAP,
    MAX_PAGE,
    ListPage,
    count_and_ids,
    partner_visible_to,
    row_fields,
    shared_row,
    user_sees_all_partners,
)
from prm import pg

DUE_SOON_DAYS = 7  # a row's "due soon" flag: due within this many days


def customers_visible_to(user: AbstractBaseUser, queryset: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """The customers of ``queryset`` (default: all) that ``user`` may see, as a queryset to filter further (no query
    of its own besides the cached visibility check). Anonymous/inactive users see none. Pass the list's *filtered*
    queryset so its filters go into both branches of a rep's scope (``_one_of``): filtered only outside, a rep's
    overdue filter flipped to reading every customer of the rep's (39–73 ms at 300k customers)."""
    queryset = Customer.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    parts = customers_visible_parts(user, queryset)
    return queryset if parts is None else _one_of(queryset, *parts)


def customers_visible_parts(user: AbstractBaseUser, queryset: QuerySet[Customer]) -> list[QuerySet[Customer]] | None:
    """``customers_visible_to`` as the querysets whose union it is (the customers of ``queryset`` assigned to
    ``user``; those brought by the partners they see), or None when ``user`` sees every customer of ``queryset``. For
    a caller that orders and limits each part before the union (the API's cursor pages)."""
    if not user.is_authenticated or not user.is_active:
        return [queryset.none()]
    if user_sees_all_partners(user):
        return None
    return [queryset.filter(assigned_to=user), queryset.filter(partner__in=partner_visible_to(user).values("pk"))]


def _one_of(queryset: QuerySet[Customer], *parts: QuerySet[Customer]) -> QuerySet[Customer]:
    """The customers of ``queryset`` in any of ``parts``, as ``id IN (part UNION part …)``. Why not ``Q(…) | Q(…)``:
    an OR across two columns (or across a join) cannot use an index, so PostgreSQL read all 300,000 customers for a
    rep's list (~300 ms); the UNION is two index lookups (a rep's few hundred customers each) hashed once (~9 ms)."""
    first, *rest = [part.order_by().values("pk") for part in parts]
    return queryset.filter(pk__in=first.union(*rest))


def customer_get_for_user(user: AbstractBaseUser, pk: int, *, for_update: bool = False) -> Customer:
    """The customer ``pk`` if ``user`` may see it, else Http404. Preloads segment, partner, assigned_to and lead (one
    query, after the visibility check). With ``for_update`` the row is locked (call inside a transaction)."""
    queryset = customers_visible_to(user).select_related("segment", "partner", "assigned_to", "lead")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    return get_object_or_404(queryset, pk=pk)


# --- Flags ------------------------------------------------------------------------------------------------------------


def mark_due(customers: list[Customer], *, now: datetime | None = None) -> list[Customer]:
    """Set ``is_overdue`` (due date passed) and ``is_due_soon`` (due within ``DUE_SOON_DAYS``) on loaded rows."""
    now = now or timezone.now()
    soon = now + timedelta(days=DUE_SOON_DAYS)
    for customer in customers:
        due = customer.engagement_due_at
        customer.is_overdue = due is not None and due < now
        customer.is_due_soon = due is not None and now <= due < soon
    return customers


# --- Customer list ----------------------------------------------------------------------------------------------------


def customer_list_filter(*, user: AbstractBaseUser, data: dict | None = None) -> CustomerFilter:
    """The list's FilterSet bound to ``data`` (``request.GET``) for ``user``; its ``.qs`` is filtered and sorted but
    NOT scoped: ``customer_list_page`` scopes it (``customers_visible_to`` over the filtered queryset). Queries to
    build it: the segments (choices)."""
    return CustomerFilter(
        data if data is not None else {}, queryset=Customer.objects.all(), user=user,
        sees_all=user_sees_all_partners(user),
    )


def customer_list_page(*, filterset: CustomerFilter, page: object, per_page: int, cap: int = COUNT_CAP) -> ListPage:
    """Page ``page`` (1-based, or the raw ``?page=``; anything else is page 1) of ``filterset.qs``, as the partner
    list pages (``partners.selectors.partner_list_page``). Two queries: the capped count with the page's ids (one
    statement), then the rows (``customer_list_rows``). Past the end: the last page (one more count). The count stops
    at ``cap`` ("1,000+"); a manager's unfiltered list over ``cap`` shows the planner's estimate ("about 300,000")."""
    try:
        number = min(max(1, int(str(page))), MAX_PAGE)
    except ValueError:
        number = 1
    matches = customers_visible_to(filterset.user, filterset.qs)  # the filters inside both branches of the scope
    count, ids, estimate = count_and_ids(matches, offset=(number - 1) * per_page, limit=per_page + 1, cap=cap)
    if not ids and number > 1:
        number = max(1, -(-count // per_page) if count <= cap else 1)
        count, ids, estimate = count_and_ids(matches, offset=(number - 1) * per_page, limit=per_page + 1, cap=cap)
    has_next, ids = len(ids) > per_page, ids[:per_page]
    capped = count > cap
    if capped and not has_next and ids:  # the last page beyond the cap: now the count is known
        count, capped = (number - 1) * per_page + len(ids), False
    estimated = False
    if capped:
        count = cap
        if not filterset.is_filtered and user_sees_all_partners(filterset.user):
            count, capped, estimated = max(estimate, cap + 1), False, True
    return ListPage(customer_list_rows(ids), number, per_page, count, capped, estimated, has_next)


# What a list row (and a Today card) shows: only these columns are read.
LIST_ROW_FIELDS = (
    "name", "company", "email", "phone", "created_at", "last_engaged_at", "next_engagement_at", "engagement_due_at",
    "segment__name", "segment__engage_every_days", "partner__name", "partner__code",
    "assigned_to__username", "assigned_to__first_name", "assigned_to__last_name",
)
# The primary contact of each kind the quick actions use, and the primary location, per row: correlated one-row
# subqueries served by the one-primary-per-(customer, kind) and one-primary-location partial unique indexes.
_PRIMARY_CONTACTS = RawSQL(
    "SELECT jsonb_object_agg(c.kind, jsonb_build_array(c.value, c.id)) FROM leads_customercontact c"
    " WHERE c.customer_id = leads_customer.id AND c.is_primary AND c.kind = ANY(%s)",
    [list(QUICK_ACTION_KINDS)],
    output_field=JSONField(),
)
_PRIMARY_LOCATION = RawSQL(
    "SELECT jsonb_build_object('label', l.label, 'address', l.address, 'latitude', l.latitude::text,"
    " 'longitude', l.longitude::text) FROM leads_customerlocation l"
    " WHERE l.customer_id = leads_customer.id AND l.is_primary LIMIT 1",
    [],
    output_field=JSONField(),
)


def customer_list_rows(ids: list[int]) -> list[Customer]:
    """The customers ``ids`` in that order, in one query, with segment, partner and assigned_to (JOINs), and what
    their quick actions need: ``primary_contacts`` (``{kind: value}``; the customer's own phone and email fill in
    for kinds without a contact), ``primary_contact_ids`` and ``primary_location`` (an unsaved ``partners`` Location,
    for its map link, or None); ``is_overdue`` / ``is_due_soon`` set. Only ``LIST_ROW_FIELDS`` are loaded."""
    if not ids:
        return []
    found = {customer.pk: customer for customer in _with_row_fields(Customer.objects.filter(pk__in=ids))}
    return _prepare_rows([found[pk] for pk in ids if pk in found])


def _with_row_fields(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    return (
        customers.select_related("segment", "partner", "assigned_to")
        .only(*LIST_ROW_FIELDS)
        .annotate(list_contacts=_PRIMARY_CONTACTS, list_location=_PRIMARY_LOCATION)
        .order_by()
    )


def _prepare_rows(rows: list[Customer]) -> list[Customer]:
    """What the templates read of a row: the quick actions' inputs and the due flags (from the annotations)."""
    for customer in rows:
        contacts = customer.list_contacts or {}
        customer.primary_contacts = _with_own_fields(customer, {kind: pair[0] for kind, pair in contacts.items()})
        customer.primary_contact_ids = {kind: pair[1] for kind, pair in contacts.items()}
        location = customer.list_location
        customer.primary_location = None
        if location is not None:
            customer.primary_location = Location(
                label=location["label"], address=location["address"], is_primary=True,
                latitude=_decimal(location["latitude"]), longitude=_decimal(location["longitude"]),
            )
    return mark_due(rows)


def _with_own_fields(customer: Customer, primary: dict[str, str]) -> dict[str, str]:
    """The customer's own phone and email (copied from the lead) count as contacts of those kinds when it has none."""
    if customer.phone:
        primary.setdefault(ContactPoint.Kind.PHONE, customer.phone)
    if customer.email:
        primary.setdefault(ContactPoint.Kind.EMAIL, customer.email)
    return primary


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


# --- Customer page ----------------------------------------------------------------------------------------------------


def customer_page(*, customer: Customer) -> dict:
    """What the customer page shows of the customer besides its row (from ``customer_get_for_user``): its contacts
    (primary first) and locations (primary first, each with ``maps_url``), its quick actions' inputs, its frequency in days
    (``engage_every_days``: its segment's, else the default segment's) and its due flags. Two queries, three when the
    customer has no segment (the default segment)."""
    contacts = list(customer.contacts.order_by("kind", "-is_primary", "id"))
    locations = list(customer.locations.order_by("-is_primary", "id"))
    for location in locations:  # the partner location's rule: coordinates, else the address
        location.maps_url = _as_location(location).maps_url
    segment = customer.segment
    default_segment = None
    if segment is None:
        default_segment = CustomerSegment.objects.filter(is_default=True).first()
    primary = {}
    for contact in contacts:
        if contact.is_primary:
            primary.setdefault(contact.kind, contact.value)
    primary_location = next((location for location in locations if location.is_primary), None)
    mark_due([customer])
    return {
        "contacts": contacts,
        "locations": locations,
        "primary_contacts": _with_own_fields(customer, primary),
        "primary_contact_ids": {contact.kind: contact.pk for contact in contacts if contact.is_primary},
        "primary_location": _as_location(primary_location),
        "engage_segment": segment or default_segment,
    }


def _as_location(location) -> Location | None:
    """A customer location as an unsaved ``partners`` Location: what the map links and quick actions take."""
    if location is None:
        return None
    return Location(label=location.label, address=location.address, latitude=location.latitude,
                    longitude=location.longitude, is_primary=location.is_primary)


# --- Today ------------------------------------------------------------------------------------------------------------


@dataclass
class CustomerDueSection:
    """Customer ids of Today's "Customers to engage", most overdue first, and how many match in all (exact up to
    ``COUNT_CAP``; ``capped``: more than that)."""

    ids: list[int]
    count: int
    capped: bool = False

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.ids))


def customer_today_ids(*, user: AbstractBaseUser, rep: str = "") -> QuerySet | None:
    """The ids of the customers Today covers, as a ``values("pk")`` queryset (a UNION of two indexed lookups), or
    None for every customer (a manager's whole team): a rep's own — assigned to them, or with nobody assigned and
    brought by one of their partners (a customer assigned to another rep is that rep's to engage, even if it came
    from my partner); a manager's: the rep with username ``rep``'s. No query (a queryset to compose)."""
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.filter(pk__in=[]).values("pk")
    if user_sees_all_partners(user):
        if not rep:
            return None
        mine = Customer.objects.filter(assigned_to__username=rep)
        via_partner = Customer.objects.filter(assigned_to__isnull=True, partner__assigned_to__username=rep)
    else:
        mine = Customer.objects.filter(assigned_to=user)
        via_partner = Customer.objects.filter(assigned_to__isnull=True, partner__assigned_to=user)
    return mine.order_by().values("pk").union(via_partner.order_by().values("pk"))


def customer_today_scope(*, user: AbstractBaseUser, rep: str = "") -> QuerySet[Customer]:
    """The customers Today covers (``customer_today_ids``) as a queryset of customers."""
    ids = customer_today_ids(user=user, rep=rep)
    # pk = ANY(ARRAY(ids)), not pk IN (ids): the section's "due before tonight" then probes the scope's few hundred
    # ids instead of hash-joining the 57k overdue customers of everyone (prm.pg.AnyOf: 48 -> a few ms).
    return Customer.objects.all() if ids is None else Customer.objects.filter(pg.AnyOf(F("pk"), Subquery(ids)))


def customers_to_engage(
    *, customers: QuerySet[Customer], until: datetime, limit: int = 20, also_ids: list[int] = ()
) -> tuple[CustomerDueSection, dict[int, Customer]]:
    """Today's customers in one statement: those of ``customers`` whose engagement is due before ``until`` (the end
    of today: overdue or due today), most overdue first, at most ``limit`` (the section, with its count capped at
    ``COUNT_CAP``), and the rows of those and of the customers ``also_ids`` (the customers of Today's calls, meetings
    and reminders), loaded as ``customer_list_rows`` loads them: ``(section, {id: row})``.

    The top ``limit`` ids and the extra ids form one id array the rows are read by (primary-key index lookups); the
    capped count rides along as an uncorrelated scalar subquery. The section's order is recovered from the rows: the
    extra ids are customers of the same scope (activities_today reads them through it), so the first ``limit`` rows
    due before ``until`` by (due date, id) are exactly the top ones."""
    due = customers.filter(engagement_due_at__lt=until)
    try:
        count_sql, count_params = due.order_by().values("pk")[: COUNT_CAP + 1].query.sql_with_params()
        top_sql, top_params = due.order_by("engagement_due_at", "id").values("pk")[:limit].query.sql_with_params()
    except EmptyResultSet:  # (nobody's customers)
        return CustomerDueSection([], 0), {row.pk: row for row in customer_list_rows(list(also_ids))}
    # A fixed statement around the scope's SQL (``_TODAY_SQL``), the rows built with ``Model.from_db``: the ORM
    # compiled the rows' joins and subqueries anew on every Today (docs/benchmarks.md, issue 13).
    with connection.cursor() as cursor:
        cursor.execute(
            _TODAY_SQL.format(count=count_sql, top=top_sql),
            [list(QUICK_ACTION_KINDS), *count_params, *top_params, [int(pk) for pk in also_ids]],
        )
        found = cursor.fetchall()
    rows, count, segments, partners, users = [], 0, {}, {}, {}  # the rows share their segments, partners and reps
    for values in found:
        customer_row, segment_row, partner_row, user_row, extra = (values[a:b] for a, b in _TODAY_SLICES)
        customer = Customer.from_db(connection.alias, _TODAY_CUSTOMER, customer_row)
        Customer.segment.field.set_cached_value(customer, shared_row(segments, CustomerSegment, _TODAY_SEGMENT,
                                                                    segment_row))
        Customer.partner.field.set_cached_value(customer, shared_row(partners, Partner, _TODAY_PARTNER, partner_row))
        Customer.assigned_to.field.set_cached_value(customer, shared_row(users, get_user_model(), _TODAY_USER,
                                                                        user_row))
        contacts, location, count = extra
        customer.list_contacts = None if contacts is None else json.loads(contacts)
        customer.list_location = None if location is None else json.loads(location)
        rows.append(customer)
    rows = _prepare_rows(rows)
    engage = sorted(
        (row for row in rows if row.engagement_due_at is not None and row.engagement_due_at < until),
        key=lambda row: (row.engagement_due_at, row.pk),
    )[:limit]
    section = CustomerDueSection([row.pk for row in engage], min(count, COUNT_CAP), count > COUNT_CAP)
    return section, {row.pk: row for row in rows}


def _slices(*groups: tuple[str, ...]) -> list[tuple[int, int | None]]:
    """Where each group of columns is in a row, and the rest after them (``row[start:end]``)."""
    bounds, start = [], 0
    for columns in groups:
        bounds.append((start, start + len(columns)))
        start += len(columns)
    return [*bounds, (start, None)]


# ``customers_to_engage``' statement: a row's ``LIST_ROW_FIELDS`` (and the foreign keys of the joins), its primary
# contacts and location (``_PRIMARY_CONTACTS``, ``_PRIMARY_LOCATION``) as JSON text, and the section's capped count
# (an uncorrelated scalar subquery, computed once); ``{count}`` and ``{top}`` are the scope's SQL.
_TODAY_CUSTOMER = row_fields(Customer, LIST_ROW_FIELDS)
_TODAY_SEGMENT = row_fields(CustomerSegment, LIST_ROW_FIELDS, "segment__")
_TODAY_PARTNER = row_fields(Partner, LIST_ROW_FIELDS, "partner__")
_TODAY_USER = row_fields(get_user_model(), LIST_ROW_FIELDS, "assigned_to__")
_TODAY_SLICES = _slices(_TODAY_CUSTOMER, _TODAY_SEGMENT, _TODAY_PARTNER, _TODAY_USER)
_TODAY_COLUMNS = ", ".join(
    f"{alias}.{column}"
    for alias, columns in (("leads_customer", _TODAY_CUSTOMER), ("s", _TODAY_SEGMENT), ("p", _TODAY_PARTNER),
                           ("u", _TODAY_USER))
    for column in columns
)
_TODAY_SQL = f"""
    SELECT {_TODAY_COLUMNS}, ({_PRIMARY_CONTACTS.sql}), ({_PRIMARY_LOCATION.sql}),
           (SELECT COUNT(*) FROM ({{count}}) matches)
    FROM leads_customer LEFT JOIN {CustomerSegment._meta.db_table} s ON s.id = leads_customer.segment_id
    LEFT JOIN {Partner._meta.db_table} p ON p.id = leads_customer.partner_id
    LEFT JOIN auth_user u ON u.id = leads_customer.assigned_to_id
    WHERE leads_customer.id IN (SELECT unnest(ARRAY({{top}}) || %s::bigint[]))
"""  # noqa: S608 (model metadata and constants only; values are parameters)


def segment_options() -> list[CustomerSegment]:
    """Every segment, by name (one query)."""
    return list(CustomerSegment.objects.order_by("name"))
