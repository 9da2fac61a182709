"""Reads of the company profile (the portal's page) and of profile updates (the staff's review pages).

Portal side: scoped by the viewer's membership (a ``partner_id`` from ``portal.selectors.portal_member``). Staff side:
``profile_updates_visible_to(user)`` / ``profile_update_get_for_user(user, pk)``, on top of
``partners.selectors.partner_visible_to`` — a rep sees the updates of their partners only, a manager all.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from partners.models import ContactPoint, Location
from partners.selectors import partner_visible_to
from portal.models import ProfileUpdate


def company_profile(*, partner_id: int) -> dict:
    """The company page's rows: ``contacts``, ``locations``, ``pending`` (the update waiting for approval, or None)
    and ``last_decided`` (the latest decided one, to show a rejection's reason). Three queries."""
    updates = list(
        ProfileUpdate.objects.filter(partner_id=partner_id)
        .select_related("submitted_by")
        .order_by("-created_at", "-id")[:2]
    )
    pending = next((u for u in updates if u.status == ProfileUpdate.Status.PENDING), None)
    decided = next((u for u in updates if u.status != ProfileUpdate.Status.PENDING), None)
    return {
        "contacts": list(ContactPoint.objects.filter(partner_id=partner_id).order_by("kind", "-is_primary", "id")),
        "locations": list(Location.objects.filter(partner_id=partner_id).order_by("-is_primary", "id")),
        "pending": pending,
        "last_decided": decided,
    }


def profile_update_pending(*, partner_id: int) -> ProfileUpdate | None:
    """The partner's update waiting for approval (with its submitter), or None. One query."""
    return (
        ProfileUpdate.objects.filter(partner_id=partner_id, status=ProfileUpdate.Status.PENDING)
        .select_related("submitted_by")
        .first()
    )


def profile_updates_visible_to(user: AbstractBaseUser) -> QuerySet[ProfileUpdate]:
    """The profile updates of the partners ``user`` sees (a rep: theirs; a manager: all)."""
    return ProfileUpdate.objects.filter(partner__in=partner_visible_to(user))


def profile_update_get_for_user(user: AbstractBaseUser, pk: int) -> ProfileUpdate:
    """The update ``pk`` when ``user`` sees its partner, else Http404. Preloads partner (with tier and assigned_to),
    submitter and decider."""
    queryset = profile_updates_visible_to(user).select_related(
        "partner", "partner__tier", "partner__assigned_to", "submitted_by", "decided_by")
    return get_object_or_404(queryset, pk=pk)


def profile_updates_pending_list(*, user: AbstractBaseUser, limit: int = 200) -> list[ProfileUpdate]:
    """The pending updates ``user`` may decide, oldest first (one query)."""
    return list(
        profile_updates_visible_to(user).filter(status=ProfileUpdate.Status.PENDING)
        .select_related("partner", "submitted_by").order_by("created_at", "id")[:limit]
    )


def profile_updates_decided_list(*, user: AbstractBaseUser, limit: int = 20) -> list[ProfileUpdate]:
    """The latest decided updates ``user`` sees (one query)."""
    return list(
        profile_updates_visible_to(user).exclude(status=ProfileUpdate.Status.PENDING)
        .select_related("partner", "submitted_by", "decided_by").order_by("-decided_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class Line:
    """One contact or location, current or proposed, as text for the side-by-side review."""

    text: str
    primary: bool
    changed: bool  # not among the other side's lines


def _contact_text(item) -> str:
    get = item.get if isinstance(item, dict) else lambda name: getattr(item, name)
    kind = get("kind")
    label = ContactPoint.Kind(kind).label if kind in ContactPoint.Kind.values else str(kind)
    parts = [f"{label}: {get('value')}"]
    if get("label"):
        parts.append(f"({get('label')})")
    channel = get("preferred_channel")
    if channel:
        parts.append(f"· preferred: {channel}")
    return " ".join(parts)


def _location_text(item) -> str:
    get = item.get if isinstance(item, dict) else lambda name: getattr(item, name)
    text = f"{get('label') or 'Location'}: {get('address')}"
    lat, lng = get("latitude"), get("longitude")
    if lat not in (None, "") and lng not in (None, ""):
        text += f" ({float(lat):.5f}, {float(lng):.5f})"
    return text


def _lines(current, proposed, text) -> tuple[list[Line], list[Line]]:
    now = [(text(item), bool(getattr(item, "is_primary", False))) for item in current]
    new = [(text(item), bool(item.get("is_primary"))) for item in proposed]
    now_set, new_set = set(now), set(new)
    return ([Line(t, p, (t, p) not in new_set) for t, p in now], [Line(t, p, (t, p) not in now_set) for t, p in new])


def profile_update_review(*, update: ProfileUpdate) -> dict:
    """Current vs proposed, side by side, for the reviewer: ``notes_now``/``notes_new``/``notes_changed`` and
    ``contacts_now``/``contacts_new``, ``locations_now``/``locations_new`` (lists of ``Line``). Two queries (the
    partner's current contacts and locations); the partner is the update's (preloaded)."""
    changes = update.changes or {}
    contacts = list(ContactPoint.objects.filter(partner_id=update.partner_id).order_by("kind", "-is_primary", "id"))
    locations = list(Location.objects.filter(partner_id=update.partner_id).order_by("-is_primary", "id"))
    contacts_now, contacts_new = _lines(contacts, changes.get("contacts", []), _contact_text)
    locations_now, locations_new = _lines(locations, changes.get("locations", []), _location_text)
    notes_now, notes_new = update.partner.notes, str(changes.get("notes", update.partner.notes) or "")
    return {
        "notes_now": notes_now, "notes_new": notes_new, "notes_changed": notes_now.strip() != notes_new.strip(),
        "contacts_now": contacts_now, "contacts_new": contacts_new,
        "locations_now": locations_now, "locations_new": locations_new,
    }
