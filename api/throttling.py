"""Per-key rate limit (settings.API_RATE_LIMIT per minute, counted in PostgreSQL by api.ratelimit): over it, 429 with
``Retry-After`` (seconds to the next minute). Session users are counted per user."""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from api.models import ApiKey
from api.ratelimit import rate_hit


class KeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        self._wait = None
        key = request.auth
        if isinstance(key, ApiKey):
            bucket = f"key:{key.pk}"
        elif request.user and request.user.is_authenticated:
            bucket = f"user:{request.user.pk}"
        else:
            return True
        count, retry_after = rate_hit(bucket=bucket)
        if count > settings.API_RATE_LIMIT:
            self._wait = retry_after
            return False
        return True

    def wait(self):
        return self._wait
