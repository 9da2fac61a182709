"""API keys, their per-minute request counters and the stored answers of idempotent writes. Written only by
api.services (and api.ratelimit for the counters)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

# Resource groups a key's scopes name, as "<group>:read" / "<group>:write".
SCOPE_GROUPS = ("partners", "activities", "leads", "customers", "deals", "figures")
READ, WRITE = "read", "write"
SCOPES = tuple(f"{group}:{access}" for group in SCOPE_GROUPS for access in (READ, WRITE))


class ApiKey(models.Model):
    """A bearer token ``prm_<prefix>_<random>``. Only the SHA-256 of the whole secret is stored; ``prefix`` (8
    characters, unique) finds the row and is what lists show. A key acts as its owner, narrowed to its scopes."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class RateWindow(models.Model):
    """Requests counted per key (or session user) and minute: one row per (bucket, window), bumped by
    ``INSERT … ON CONFLICT DO UPDATE … RETURNING count`` (api.ratelimit). Each hit deletes the bucket's older windows."""

    bucket = models.CharField(max_length=40)  # "key:<id>" or "user:<id>"
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "window_start"], name="api_rate_window_unique")]

    def __str__(self):
        return f"{self.bucket} {self.window_start:%Y-%m-%d %H:%M}: {self.count}"


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with an ``Idempotency-Key``, kept 24 h (settings.IDEMPOTENCY_HOURS) and
    replayed for a retry of the same request. Claimed by an INSERT in the write's own transaction (api.services), so a
    concurrent retry waits for the first to commit and then replays it; a write that fails with a 5xx rolls the claim
    back with it."""

    bucket = models.CharField(max_length=40)  # "key:<id>" or "user:<id>", as api.ratelimit
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # SHA-256 of method, path and body
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "key"], name="api_idempotency_unique")]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_created_idx")]

    def __str__(self):
        return f"{self.bucket} {self.key}"
