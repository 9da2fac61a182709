"""Reads for the API, on the same visibility rule as the pages (partners.selectors.partner_visible_to)."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, QuerySet, Value
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from api.models import ApiKey
from partners import search
from partners.models import ContactPoint, Location, Partner, Tier
from partners.selectors import partner_visible_to


def _with_related(queryset: QuerySet[Partner]) -> QuerySet[Partner]:
    """Tier and assignee joined; contact points and locations prefetched (one query each)."""
    return queryset.select_related("tier", "assigned_to").prefetch_related(
        Prefetch("contact_points", queryset=ContactPoint.objects.order_by("kind", "-is_primary", "id")),
        Prefetch("locations", queryset=Location.objects.order_by("-is_primary", "id")),
    )


def api_partners(
    *,
    user: AbstractBaseUser,
    status: str | None = None,
    tier: int | None = None,
    assigned_to: str | None = None,
    q: str | None = None,
    updated_since: datetime | None = None,
) -> QuerySet[Partner]:
    """The partners ``user`` may see, filtered; for ``api.pagination.cursor_page``. Queries to build it: the
    visibility check (once per request, partners.selectors.user_sees_all_partners)."""
    queryset = partner_visible_to(user)
    if status:
        queryset = queryset.filter(status=status)
    if tier:
        queryset = queryset.filter(tier_id=tier)
    if assigned_to:
        queryset = queryset.filter(assigned_to__username=assigned_to)
    if q:
        term = search.search_term(q)
        if term:
            queryset = queryset.filter(search_document__contains=Lower(Value(term)))
    if updated_since:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return _with_related(queryset)


def api_partner_get(*, user: AbstractBaseUser, pk: int) -> Partner:
    """The partner ``pk`` if ``user`` may see it, else Http404; with its tier, assignee, contacts and locations."""
    return get_object_or_404(_with_related(partner_visible_to(user)), pk=pk)


def api_tiers() -> list[Tier]:
    return list(Tier.objects.order_by("rank"))


def api_keys_of(*, user: AbstractBaseUser) -> list[ApiKey]:
    """The keys ``user`` owns, newest first (one query)."""
    return list(ApiKey.objects.filter(owner=user).order_by("-created_at", "-id"))


def api_key_get_for_user(*, user: AbstractBaseUser, pk: int) -> ApiKey:
    """A key ``user`` owns, else Http404."""
    return get_object_or_404(ApiKey.objects.filter(owner=user), pk=pk)
