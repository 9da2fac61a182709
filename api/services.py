"""Writes of API keys (the only writer of api.ApiKey) and of the stored answers of idempotent writes.

A secret is ``prm_<prefix>_<random>``: 8 random url-safe characters of prefix (unique, the lookup), 32 random bytes
after it. Only its SHA-256 is stored; the secret is returned once, by ``key_create``.
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from api.models import SCOPES, ApiKey, IdempotencyRecord

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


def keys_revoke_for_user(*, user: AbstractBaseUser, now: datetime | None = None) -> int:
    """Revoke every live key of ``user`` in one UPDATE (the user was deactivated: accounts.services). Returns how many."""
    return ApiKey.objects.filter(owner_id=user.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())


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


# Idempotent writes (api.writes.api_write). Both calls run inside the write's own transaction.

def idempotency_claim(*, bucket: str, key: str, request_hash: str, now: datetime | None = None) -> IdempotencyRecord | None:
    """Claim ``key`` for this request: the new (empty) record, or None when an unexpired record already holds it (the
    caller then reads it with ``idempotency_get``). One statement. A record older than settings.IDEMPOTENCY_HOURS is
    taken over in place. While another transaction holds an uncommitted claim on the same key, this waits for it (the
    unique index), which is what makes two concurrent retries write once."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_HOURS)
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (bucket, key, request_hash, created_at, response_headers)
                VALUES (%s, %s, %s, %s, '{{}}')
                ON CONFLICT (bucket, key) DO UPDATE
                    SET request_hash = EXCLUDED.request_hash, created_at = EXCLUDED.created_at,
                        status_code = NULL, response_body = NULL, response_headers = '{{}}'
                    WHERE {table}.created_at < %s
                RETURNING id""",  # noqa: S608 (the model's table)
            [bucket, key, request_hash, now, cutoff],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return IdempotencyRecord(pk=row[0], bucket=bucket, key=key, request_hash=request_hash, created_at=now)


def idempotency_get(*, bucket: str, key: str) -> IdempotencyRecord:
    return IdempotencyRecord.objects.get(bucket=bucket, key=key)


def _storable(value):
    """``value`` with the characters PostgreSQL's jsonb refuses (NUL, lone surrogates) replaced by U+FFFD: an error
    answer may echo the request's own text."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_storable(str(key)): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def idempotency_store(*, record: IdempotencyRecord, status_code: int, body, headers: dict[str, str]) -> None:
    """Keep the answer to replay (one UPDATE)."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=status_code, response_body=_storable(body), response_headers=headers
    )


def idempotency_purge(*, now: datetime | None = None) -> int:
    """Delete records past their 24 h (one DELETE on the created_at index); the nightly task."""
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_HOURS)
    ).delete()
    return deleted
