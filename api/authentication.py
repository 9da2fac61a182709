"""``Authorization: Bearer prm_<prefix>_<random>``: the key is found by its prefix (a unique index), then the SHA-256
of the whole secret is compared in constant time. Unknown, wrong, expired and revoked keys, and keys of inactive
owners, all get the same 401 (no oracle telling which)."""

import hmac

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from api.models import ApiKey
from api.services import PREFIX_LENGTH, SECRET_PREFIX, hash_secret, key_touch

INVALID = "Invalid, expired or revoked API key."


class ApiKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        """One query: the key by prefix, with its owner (select_related). No header: not this scheme (None)."""
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(INVALID)
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(INVALID) from None
        prefix = secret[len(SECRET_PREFIX):len(SECRET_PREFIX) + PREFIX_LENGTH]
        if not secret.startswith(SECRET_PREFIX) or len(prefix) != PREFIX_LENGTH or "\x00" in secret:
            raise exceptions.AuthenticationFailed(INVALID)
        key = ApiKey.objects.select_related("owner").filter(prefix=prefix).first()
        expected = key.key_hash if key is not None else "0" * 64
        matches = hmac.compare_digest(expected, hash_secret(secret))
        now = timezone.now()
        if (
            key is None
            or not matches
            or key.revoked_at is not None
            or (key.expires_at is not None and key.expires_at <= now)
            or not key.owner.is_active
        ):
            raise exceptions.AuthenticationFailed(INVALID)
        key_touch(key=key, now=now)
        return key.owner, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
