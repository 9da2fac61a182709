"""Writes of API keys (the only writer of api.ApiKey).

A secret is ``prm_<prefix>_<random>``: 8 random url-safe characters of prefix (unique, the lookup), 32 random bytes
after it. Only its SHA-256 is stored; the secret is returned once, by ``key_create``.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from api.models import SCOPES, ApiKey

SECRET_PREFIX = "prm_"  # noqa: S105 (the secrets' fixed start, not a secret)
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
LAST_USED_EVERY = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_prefix() -> str:
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def key_create(
    *, owner: AbstractBaseUser, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key for ``owner``; returns it and its secret (shown once, never stored)."""
    name = " ".join((name or "").split())
    unknown = sorted(set(scopes) - set(SCOPES))
    errors = {}
    if not name:
        errors["name"] = "Give the key a name."
    if unknown:
        errors["scopes"] = f"Unknown scopes: {', '.join(unknown)}."
    if not scopes:
        errors["scopes"] = "Choose at least one scope."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    if errors:
        raise ValidationError(errors)
    ordered = [scope for scope in SCOPES if scope in set(scopes)]
    for _attempt in range(5):  # a prefix collision (36^8 space) is retried
        prefix = _new_prefix()
        secret = f"{SECRET_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey(owner=owner, name=name[:100], prefix=prefix, key_hash=hash_secret(secret), scopes=ordered,
                     expires_at=expires_at)
        key.full_clean()
        try:
            with transaction.atomic():
                key.save()
        except IntegrityError:
            continue
        return key, secret
    raise RuntimeError("could not find a free API key prefix")


@transaction.atomic
def key_revoke(*, key: ApiKey, by: AbstractBaseUser) -> ApiKey:
    """Revoke ``key`` (once; revoking again keeps the first time). ``by`` must own it or be a superuser."""
    if key.owner_id != by.pk and not by.is_superuser:
        raise PermissionError("only the key's owner may revoke it")
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
    key.refresh_from_db(fields=["revoked_at"])
    return key


def key_touch(*, key: ApiKey, now: datetime | None = None) -> bool:
    """Record that ``key`` was used: at most once a minute, by a conditional UPDATE (no query when it was recorded
    less than a minute ago, as far as this request knows). True if this call wrote."""
    now = now or timezone.now()
    if key.last_used_at is not None and key.last_used_at > now - LAST_USED_EVERY:
        return False
    changed = ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY), pk=key.pk
    ).update(last_used_at=now)
    if changed:
        key.last_used_at = now
    return bool(changed)
