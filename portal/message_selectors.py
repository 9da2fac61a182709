"""Reads of announcements and the portal feed. Which announcements a partner sees is decided here and only here
(``announcements_for``); ``announcement_audience`` is the same rule seen from the other side (which partners an
announcement reaches), used when it is published. Query budgets are in each docstring (asserted in tests/portal).

The audience rule: a partner sees an announcement when it is for everyone (``to_all``), or the partner is one of the
chosen partners, or the partner is in the segment — its tier is one of the chosen tiers (when tiers are chosen) and
its kind one of the chosen kinds (when kinds are chosen), at least one of the two being chosen. So "Gold" is every
Gold partner, "Gold + individual" the Gold individuals, and chosen partners come on top of either.
"""


from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from partners.models import Partner
from portal.models import Announcement, AnnouncementRead, Membership, PortalEvent
from prm.paging import Page, page_number

PAGE_SIZE = 25
UNREAD_CAP = 99  # the bell shows "99+" above this
TierLink = Announcement.tiers.through
PartnerLink = Announcement.partners.through


def announcements_for(*, partner: Partner) -> QuerySet[Announcement]:
    """The announcements ``partner`` may see (newest first), to filter further. No query of its own: the rule is
    evaluated by PostgreSQL per announcement (``EXISTS`` on the two link tables' indexes; no DISTINCT needed)."""
    chosen = Exists(PartnerLink.objects.filter(announcement_id=OuterRef("pk"), partner_id=partner.pk))
    has_tiers = Exists(TierLink.objects.filter(announcement_id=OuterRef("pk")))
    if partner.tier_id is None:
        tier_ok = ~has_tiers
    else:
        tier_ok = Exists(TierLink.objects.filter(announcement_id=OuterRef("pk"), tier_id=partner.tier_id)) | ~has_tiers
    no_kinds = Q(kinds=[])
    kind_ok = Q(kinds__contains=[partner.kind]) | no_kinds
    segment = (has_tiers | ~no_kinds) & tier_ok & kind_ok
    return Announcement.objects.filter(Q(to_all=True) | chosen | segment).order_by("-published_at", "-id")


def announcement_audience(*, announcement: Announcement) -> QuerySet[Partner]:
    """The partners ``announcement`` reaches (the rule of ``announcements_for`` from the announcement's side), as a
    queryset for an INSERT … SELECT: one statement over the partners table, no Python loop. Reads the announcement's
    tiers and chosen partners' ids: one query each."""
    if announcement.to_all:
        return Partner.objects.all()
    tier_ids = list(TierLink.objects.filter(announcement_id=announcement.pk).values_list("tier_id", flat=True))
    condition = Q(pk__in=PartnerLink.objects.filter(announcement_id=announcement.pk).values("partner_id"))
    if tier_ids or announcement.kinds:
        segment = Q()
        if tier_ids:
            segment &= Q(tier_id__in=tier_ids)
        if announcement.kinds:
            segment &= Q(kind__in=announcement.kinds)
        condition |= segment
    return Partner.objects.filter(condition)


def _read_by(user_id: int) -> Exists:
    return Exists(AnnouncementRead.objects.filter(announcement_id=OuterRef("pk"), user_id=user_id))


def announcement_get_for_member(member: Membership, pk: int) -> Announcement:
    """The announcement ``pk`` if ``member``'s partner may see it, else Http404 (one query)."""
    return get_object_or_404(announcements_for(partner=member.partner).annotate(is_read=_read_by(member.user_id)),
                             pk=pk)


def announcement_list_page(*, member: Membership, page: object = 1, per_page: int = PAGE_SIZE) -> Page:
    """One page of the announcements ``member`` sees, unread (by this user) first, then newest first; each row has
    ``is_read``. One query (``per_page`` + 1 rows; no count)."""
    number = page_number(page)
    offset = (number - 1) * per_page
    rows = list(
        announcements_for(partner=member.partner).annotate(is_read=_read_by(member.user_id))
        .defer("created_by", "to_all", "kinds")
        .order_by("is_read", "-published_at", "-id")[offset: offset + per_page + 1]
    )
    return Page(rows=rows[:per_page], number=number, has_next=len(rows) > per_page)


def unread_announcements_count(*, member: Membership, cap: int = UNREAD_CAP) -> int:
    """How many announcements ``member``'s user has not opened yet, counted up to ``cap`` + 1: one query."""
    return (announcements_for(partner=member.partner).filter(~_read_by(member.user_id)).order_by()[: cap + 1]
            .count())


def unread_label(count: int, cap: int = UNREAD_CAP) -> str:
    """The bell's text: "" for none, "3", "99+"."""
    return "" if count <= 0 else (f"{cap}+" if count > cap else str(count))


def feed_page(*, member: Membership, page: object = 1, per_page: int = PAGE_SIZE) -> Page:
    """One page of the partner's feed (PortalEvent), newest first: one query on ``portal_event_feed_idx``."""
    number = page_number(page)
    offset = (number - 1) * per_page
    rows = list(
        PortalEvent.objects.filter(partner_id=member.partner_id).only("kind", "title", "link", "at")
        .order_by("-at", "-id")[offset: offset + per_page + 1]
    )
    return Page(rows=rows[:per_page], number=number, has_next=len(rows) > per_page)


def announcement_staff_page(*, page: object = 1, per_page: int = PAGE_SIZE) -> Page:
    """The staff's list of announcements, newest first, with who wrote each, how many partners were chosen and how
    many people have read it (subqueries), and their tiers (prefetched): two queries (``per_page`` + 1 rows)."""
    number = page_number(page)
    offset = (number - 1) * per_page
    chosen = PartnerLink.objects.filter(announcement_id=OuterRef("pk")).order_by().values("announcement_id") \
        .annotate(n=Count("id")).values("n")
    reads = AnnouncementRead.objects.filter(announcement_id=OuterRef("pk")).order_by().values("announcement_id") \
        .annotate(n=Count("id")).values("n")
    rows = list(
        Announcement.objects.select_related("created_by").prefetch_related("tiers")
        .annotate(chosen_count=Coalesce(Subquery(chosen), 0), read_count=Coalesce(Subquery(reads), 0))
        .order_by("-published_at", "-id")[offset: offset + per_page + 1]
    )
    return Page(rows=rows[:per_page], number=number, has_next=len(rows) > per_page)
