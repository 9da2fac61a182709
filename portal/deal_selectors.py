"""Reads of deal registrations, for both sides.

The portal side is scoped by the viewer's membership (``deal_get_for_member``: another partner's registration is a
404 on every verb); the staff side by the partners the user may see (``deals_visible_to``: a rep sees the
registrations of the partners assigned to them, a manager all; drafts are the partner's own business and never
shown to staff). Query budgets are in each docstring and asserted in tests/portal/test_deals_views.py.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from partners.selectors import COUNT_CAP, MAX_PAGE, ListPage, count_and_ids, user_sees_all_partners
from portal.models import DealEvent, DealRegistration, Membership

HISTORY_LIMIT = 100
# What a list row shows: only these columns are read.
LIST_ROW_FIELDS = ("partner_id", "status", "stage", "company", "domain", "amount", "currency", "expected_close",
                   "submitted_at", "created_at", "protection_expires_at", "reviewer_id", "partner__name")
STAFF_STATUSES = [value for value in DealRegistration.Status.values if value != DealRegistration.Status.DRAFT]


def _page(queryset: QuerySet, *, page: object, per_page: int, rows) -> ListPage:
    """Page ``page`` of ``queryset``: the capped count with the page's ids (one statement), then the rows."""
    try:
        number = min(max(1, int(str(page))), MAX_PAGE)
    except ValueError:
        number = 1
    count, ids, _estimate = count_and_ids(queryset, offset=(number - 1) * per_page, limit=per_page + 1, cap=COUNT_CAP)
    if not ids and number > 1:  # past the end: the last page
        number = max(1, -(-count // per_page) if count <= COUNT_CAP else 1)
        count, ids, _estimate = count_and_ids(queryset, offset=(number - 1) * per_page, limit=per_page + 1,
                                              cap=COUNT_CAP)
    has_next, ids = len(ids) > per_page, ids[:per_page]
    over = count > COUNT_CAP
    if over and not has_next and ids:
        count, over = (number - 1) * per_page + len(ids), False
    return ListPage(rows(ids), number, per_page, COUNT_CAP if over else count, over, False, has_next)


def _rows(ids: list[int]) -> list[DealRegistration]:
    if not ids:
        return []
    found = {row.pk: row for row in DealRegistration.objects.filter(pk__in=ids).select_related("partner")
             .only(*LIST_ROW_FIELDS).order_by()}
    return [found[pk] for pk in ids if pk in found]


def history(registration: DealRegistration, *, limit: int = HISTORY_LIMIT) -> list[DealEvent]:
    """The registration's steps, oldest first (the latest ``limit``), with who took them: one query."""
    rows = list(DealEvent.objects.filter(registration=registration).select_related("by")
                .only("registration_id", "status", "note", "at", "by__username", "by__first_name", "by__last_name")
                .order_by("-at", "-id")[:limit])
    return rows[::-1]


# --- The portal ---------------------------------------------------------------------------------------------------


def deals_of_member(member: Membership, *, status: str = "") -> QuerySet[DealRegistration]:
    """The registrations of ``member``'s partner (newest first), optionally of one status (or "open")."""
    queryset = DealRegistration.objects.filter(partner_id=member.partner_id)
    if status == "open":
        queryset = queryset.filter(status__in=DealRegistration.OPEN)
    elif status in DealRegistration.Status.values:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def deal_list_page_for_member(member: Membership, *, status: str, page: object, per_page: int) -> ListPage:
    """A page of the partner's registrations: two queries (the count with the ids, the rows)."""
    return _page(deals_of_member(member, status=status), page=page, per_page=per_page, rows=_rows)


def deal_get_for_member(member: Membership, pk: int) -> DealRegistration:
    """The registration ``pk`` of ``member``'s partner (with its partner), else Http404: one query."""
    return get_object_or_404(DealRegistration.objects.select_related("partner", "reviewer"), pk=pk,
                             partner_id=member.partner_id)


# --- Staff --------------------------------------------------------------------------------------------------------


def deals_visible_to(user: AbstractBaseUser) -> QuerySet[DealRegistration]:
    """The registrations ``user`` may see: of the partners assigned to them (a manager: every partner's), never
    drafts. The visibility check is one query per request (``user_sees_all_partners``)."""
    if not user.is_authenticated or not user.is_active:
        return DealRegistration.objects.none()
    queryset = DealRegistration.objects.exclude(status=DealRegistration.Status.DRAFT)
    if user_sees_all_partners(user):
        return queryset
    return queryset.filter(partner__assigned_to=user)


def deal_get_for_user(user: AbstractBaseUser, pk: int) -> DealRegistration:
    """The registration ``pk`` if ``user`` may see it (with partner, its tier and rep, reviewer, decider, creator,
    lead), else Http404: one query after the visibility check."""
    return get_object_or_404(
        deals_visible_to(user).select_related("partner__tier", "partner__assigned_to", "reviewer", "decided_by",
                                              "created_by", "lead"),
        pk=pk,
    )


def review_queue(user: AbstractBaseUser, *, status: str = "submitted") -> QuerySet[DealRegistration]:
    """The staff list: ``status`` ("submitted" by default; "open", "all" or one status), oldest submission first
    (waiting longest); a rep's own reviews first."""
    queryset = deals_visible_to(user)
    if status == "open":
        queryset = queryset.filter(status__in=DealRegistration.OPEN)
    elif status in STAFF_STATUSES:
        queryset = queryset.filter(status=status)
    if user_sees_all_partners(user):
        # A manager's queue spans every partner (500k registrations at 100k partners): oldest first on the
        # (status, submitted_at) / (submitted_at, id) indexes, which stop after a page; "mine first" would sort all.
        return queryset.order_by("submitted_at", "id")
    mine = Case(When(reviewer_id=user.pk, then=Value(0)), default=Value(1), output_field=IntegerField())
    return queryset.order_by(mine, "submitted_at", "id")


def review_queue_page(user: AbstractBaseUser, *, status: str, page: object, per_page: int) -> ListPage:
    """A page of the review queue: two queries after the visibility check."""
    return _page(review_queue(user, status=status), page=page, per_page=per_page, rows=_rows)
