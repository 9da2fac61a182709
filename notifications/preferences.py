"""The notifications app's preference services and selectors: each user's time zone, lead time, email and digest
switches, and their private calendar feed token (``Preference``, one row per user; no row = the defaults).

Decisions:
- The time zone is an IANA name checked against ``zoneinfo.available_timezones()``; blank means the organisation's
  ``settings.TIME_ZONE`` (so a user who never chose follows the organisation if it moves).
- The digest is due at the next 08:00 in the user's zone (``digest_next_at``): set when it is switched on, recomputed
  when the zone changes, cleared when it is off. The beat claims it with a conditional UPDATE and moves it on with
  ``digest_next_after``.
- Calendar feed tokens: 32 random bytes (``secrets.token_urlsafe``), shown to the user once; only their SHA-256 is
  stored (unique), so a database leak reveals no working feed URL. A new token replaces the old one; revoking clears
  it. The lookup is by hash, and an inactive user's token finds nobody.
"""

import hashlib
import secrets
import zoneinfo
from datetime import datetime, time, timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.models import Preference

User = AbstractBaseUser
DIGEST_TIME = time(8, 0)
MAX_LEAD_MINUTES = 24 * 60
# The session key holding the user's zone name (notifications.middleware activates it on every request).
SESSION_TIME_ZONE = "prm_tz"


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows (the tzdata package ships them), sorted; read once per process."""
    return tuple(sorted(zoneinfo.available_timezones()))


def is_time_zone(name: str) -> bool:
    return name in _time_zone_set()


@lru_cache(maxsize=1)
def _time_zone_set() -> frozenset[str]:
    return frozenset(time_zone_names())


def organisation_time_zone() -> str:
    return settings.TIME_ZONE


def preference_time_zone(preference: Preference) -> str:
    """The zone name ``preference`` stands for: its own, or the organisation's when blank."""
    return preference.time_zone or organisation_time_zone()


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The ZoneInfo of ``name``; the organisation's zone for a blank or unknown name (e.g. a zone tzdata dropped)."""
    if name and is_time_zone(name):
        return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo(organisation_time_zone())


def digest_next_after(*, time_zone: str, after: datetime) -> datetime:
    """The first 08:00 in ``time_zone`` strictly after ``after`` (an aware datetime), as an aware datetime.

    08:00 exists every day in every zone (DST changes happen at night), so this is always a real instant.
    """
    tz = zone(time_zone)
    local = after.astimezone(tz)
    candidate = datetime.combine(local.date(), DIGEST_TIME, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), DIGEST_TIME, tzinfo=tz)
    return candidate


# --- Selectors -------------------------------------------------------------------------------------------------------


def preference_for(*, user: User) -> Preference:
    """The user's preferences (one query): their row, or unsaved defaults (the organisation's zone, 15 minutes, email
    on, no digest) when they never saved any."""
    preference = Preference.objects.filter(user_id=user.pk).first()
    if preference is None:
        preference = Preference(user_id=user.pk, time_zone=organisation_time_zone())
    elif not preference.time_zone:
        preference.time_zone = organisation_time_zone()
    return preference


def time_zone_name_for(*, user: User) -> str:
    """The zone name ``user``'s pages are shown in (one query, only the column needed)."""
    name = Preference.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    return name if name and is_time_zone(name) else organisation_time_zone()


def user_for_calendar_token(*, token: str) -> User | None:
    """The active user whose calendar feed token is ``token``, or None (one query). Wrong, revoked, malformed and
    inactive users' tokens all give None."""
    if not token or len(token) > 128:
        return None
    preference = (
        Preference.objects.select_related("user")
        .filter(calendar_token_hash=_token_hash(token), user__is_active=True)
        .first()
    )
    return preference.user if preference is not None else None


# --- Services ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def preference_save(
    *, user: User, time_zone: str, lead_minutes: int, email_notifications: bool, digest_enabled: bool
) -> Preference:
    """Validate and store the user's settings (upsert of their one row, locked while it changes).

    Raises ValidationError naming the field (``time_zone``, ``lead_minutes``) and writes nothing when any is wrong.
    """
    time_zone = (time_zone or "").strip()
    errors = {}
    if not is_time_zone(time_zone):
        errors["time_zone"] = "Choose a time zone from the list (e.g. Europe/London, Asia/Kolkata)."
    if isinstance(lead_minutes, bool) or not isinstance(lead_minutes, int) or not 0 <= lead_minutes <= MAX_LEAD_MINUTES:
        errors["lead_minutes"] = f"Enter a whole number of minutes from 0 to {MAX_LEAD_MINUTES}."
    if errors:
        raise ValidationError(errors)

    preference, _created = Preference.objects.select_for_update().get_or_create(user_id=user.pk)
    zone_changed = preference_time_zone(preference) != time_zone
    preference.time_zone = time_zone
    preference.lead_minutes = lead_minutes
    preference.email_notifications = bool(email_notifications)
    if not digest_enabled:
        preference.digest_next_at = None
    elif not preference.digest_enabled or zone_changed or preference.digest_next_at is None:
        preference.digest_next_at = digest_next_after(time_zone=time_zone, after=timezone.now())
    preference.digest_enabled = bool(digest_enabled)
    preference.full_clean(exclude=["user"])
    preference.save(
        update_fields=[
            "time_zone", "lead_minutes", "email_notifications", "digest_enabled", "digest_next_at", "updated_at",
        ]
    )
    return preference


@transaction.atomic
def calendar_token_create(*, user: User) -> str:
    """A new calendar feed token for ``user``, replacing any old one (which stops working at once). Returns the raw
    token: the only time it exists outside the user's calendar app (only its SHA-256 is stored)."""
    token = secrets.token_urlsafe(32)
    preference, _created = Preference.objects.select_for_update().get_or_create(user_id=user.pk)
    preference.calendar_token_hash = _token_hash(token)
    preference.calendar_token_created_at = timezone.now()
    preference.save(update_fields=["calendar_token_hash", "calendar_token_created_at", "updated_at"])
    return token


@transaction.atomic
def calendar_token_revoke(*, user: User) -> None:
    """Stop ``user``'s calendar feed URL working (nothing to do when there is none)."""
    Preference.objects.filter(user_id=user.pk).update(
        calendar_token_hash="", calendar_token_created_at=None, updated_at=timezone.now()
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
