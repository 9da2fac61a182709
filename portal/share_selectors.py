"""Reads of leads shared with partners: the partner's own (scoped by membership, as every portal read) and, for the
staff's lead page, a lead's current share. Query budgets are in each docstring (asserted in tests/portal)."""

from dataclasses import dataclass

from django.db.models import Case, DateTimeField, F, IntegerField, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from portal.models import Membership, SharedLead

PAGE_SIZE = 25
MAX_PAGE = 10_000
# What the partner's pages read of a lead: the contact columns are read too, and shown only once accepted.
LEAD_FIELDS = ("lead__name", "lead__company", "lead__email", "lead__phone", "lead__stage", "lead__expected_value")
SHARE_FIELDS = ("partner_id", "lead_id", "status", "note", "offered_at", "respond_by", "follow_up_by", "responded_at",
                "followed_up_at", "response_note", "shared_by_id")


def shared_leads_for(*, member: Membership) -> QuerySet[SharedLead]:
    """The shares of ``member``'s partner (nobody else's), to filter further. No query."""
    return SharedLead.objects.filter(partner_id=member.partner_id)


def shared_lead_get_for_member(member: Membership, pk: int) -> SharedLead:
    """The share ``pk`` if it is ``member``'s partner's, else Http404 (also for another partner's). Preloads the
    lead and who shared it: one query."""
    return get_object_or_404(
        shared_leads_for(member=member).select_related("lead", "shared_by")
        .only(*SHARE_FIELDS, *LEAD_FIELDS, "shared_by__first_name", "shared_by__last_name", "shared_by__username",
              "shared_by__email"),
        pk=pk,
    )


@dataclass
class SharePage:
    rows: list[SharedLead]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def shared_lead_list_page(*, member: Membership, page: object = 1, per_page: int = PAGE_SIZE) -> SharePage:
    """One page of the partner's shared leads: those waiting for an answer first (soonest deadline first), then the
    accepted ones (soonest follow-up first), then the closed ones, newest first. One query (``per_page`` + 1 rows,
    the lead joined; no count)."""
    try:
        number = min(max(int(page), 1), MAX_PAGE)
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * per_page
    queryset = (
        shared_leads_for(member=member).select_related("lead").only(*SHARE_FIELDS, *LEAD_FIELDS)
        .annotate(
            bucket=Case(When(status=SharedLead.Status.OFFERED, then=Value(0)),
                        When(status=SharedLead.Status.ACCEPTED, then=Value(1)), default=Value(2),
                        output_field=IntegerField()),
            deadline=Case(When(status=SharedLead.Status.OFFERED, then=F("respond_by")),
                          When(status=SharedLead.Status.ACCEPTED, then=F("follow_up_by")),
                          default=Value(None), output_field=DateTimeField()),
        )
        .order_by("bucket", F("deadline").asc(nulls_last=True), "-offered_at", "-id")
    )
    rows = list(queryset[offset: offset + per_page + 1])
    return SharePage(rows=rows[:per_page], number=number, has_next=len(rows) > per_page)


def lead_share_current(*, lead_id: int) -> SharedLead | None:
    """The staff's lead page: the lead's open share, else its latest one (with the partner and who answered), or
    None. One query (the lead's shares are few; the open one sorts first)."""
    return (
        SharedLead.objects.filter(lead_id=lead_id).select_related("partner", "responded_by", "shared_by")
        .annotate(open=Case(When(status__in=SharedLead.OPEN, then=Value(0)), default=Value(1),
                            output_field=IntegerField()))
        .order_by("open", "-offered_at", "-id")
        .first()
    )
