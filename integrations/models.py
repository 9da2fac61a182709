"""CRM sync tables: written only by integrations.services (and integrations.sync, the engine it runs).

- ``Connection``: one external CRM. Credentials are a Fernet token (integrations/crypto.py), never shown again.
  ``running_until`` is the lease of the one run at a time (claimed by a conditional UPDATE); ``next_attempt_at`` is
  the backoff after a 429/5xx; ``status`` turns ``failing`` on a 401/403 and stays so until an admin saves new
  credentials (no retry storm).
- ``SyncCursor``: per object, the (LastModifiedDate, Id) of the last record committed — written in the same
  transaction as that page's records, so a crash resumes from the last committed page and nothing is duplicated.
- ``FieldMapping``: local field ↔ remote field per object, with direction, when it applies, a fixed value and the
  conflict rule.
- ``ExternalRef``: local id ↔ remote id per object, the remote last-modified, and a hash per mapped field of the
  values last synced (an unchanged value is neither written nor echoed back).
- ``SyncRun`` / ``SyncLog``: every run, and every record-level failure with the remote error code.
"""

from django.db import models


class Connection(models.Model):
    class Kind(models.TextChoices):
        SALESFORCE = "salesforce", "Salesforce"

    class Status(models.TextChoices):
        OK = "ok", "OK"
        FAILING = "failing", "Failing (credentials refused)"
        DISABLED = "disabled", "Disabled"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SALESFORCE)
    name = models.CharField(max_length=100, unique=True)
    instance_url = models.URLField(help_text="e.g. https://yourcompany.my.salesforce.com")
    credentials_encrypted = models.TextField(editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    status_message = models.CharField(max_length=500, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Consecutive 429/5xx/network failures (backoff).")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    running_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SyncObject(models.TextChoices):
    ACCOUNT = "account", "Partner ↔ Account"
    CONTACT = "contact", "Contact points ↔ Contact"
    LEAD = "lead", "Lead ↔ Lead"
    DEAL = "deal", "Deal registration ↔ Opportunity"
    PRODUCT = "product", "Product ← Product2"
    PRICE_BOOK = "price_book", "Price book ← Pricebook2"
    PRICE_ENTRY = "price_entry", "Price entry ← PricebookEntry"


class SyncCursor(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="cursors")
    object = models.CharField(max_length=20, choices=SyncObject.choices)
    remote_modified_at = models.DateTimeField()
    remote_id = models.CharField(max_length=18)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "object"], name="integrations_cursor_unique")]

    def __str__(self) -> str:
        return f"{self.object} after {self.remote_modified_at:%Y-%m-%d %H:%M:%S} / {self.remote_id}"


class FieldMapping(models.Model):
    class Direction(models.TextChoices):
        IN = "in", "CRM → PRM"
        OUT = "out", "PRM → CRM"
        BOTH = "both", "Both ways"

    class ApplyOn(models.TextChoices):
        CREATE = "create", "On create only"
        UPDATE = "update", "On create and update"
        FIRST_SYNC = "first_sync", "First sync only"

    class Conflict(models.TextChoices):
        PRM_WINS = "prm_wins", "PRM wins"
        CRM_WINS = "crm_wins", "CRM wins"
        CRM_UNLESS_BLANK = "crm_unless_blank", "CRM unless blank"
        LATEST_WINS = "latest_wins", "Latest change wins"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="mappings")
    object = models.CharField(max_length=20, choices=SyncObject.choices)
    local_field = models.CharField(max_length=50)
    remote_field = models.CharField(max_length=80)
    direction = models.CharField(max_length=4, choices=Direction.choices, default=Direction.BOTH)
    apply_on = models.CharField(max_length=10, choices=ApplyOn.choices, default=ApplyOn.UPDATE)
    fixed_value = models.CharField(max_length=255, null=True, blank=True,
                                   help_text="When set, this value is written instead of the other side's.")
    conflict_rule = models.CharField(max_length=20, choices=Conflict.choices, default=Conflict.LATEST_WINS)
    value_map = models.JSONField(default=dict, blank=True,
                                 help_text="For a field whose values differ (a lead's stage ↔ Status): PRM value → CRM "
                                           "value, over the defaults.")

    class Meta:
        ordering = ["object", "local_field"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "object", "local_field"], name="integrations_mapping_local"),
        ]

    def __str__(self) -> str:
        return f"{self.object}.{self.local_field} ↔ {self.remote_field}"


class ExternalRef(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="refs")
    object = models.CharField(max_length=20, choices=SyncObject.choices)
    local_id = models.BigIntegerField()
    # An 18-character record Id; a contact point's is "<Contact Id>.<field>" (one Contact holds up to three points).
    remote_id = models.CharField(max_length=40)
    remote_modified_at = models.DateTimeField(null=True, blank=True)
    # The local record's parent, where the push must find refs of records deleted here (a contact point's partner).
    parent_id = models.BigIntegerField(null=True, blank=True)
    synced = models.JSONField(default=dict, help_text="Local field → hash of the value last synced both sides.")
    values_hash = models.CharField(max_length=32, blank=True)
    deleted_remotely = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "object", "remote_id"], name="integrations_ref_remote"),
            models.UniqueConstraint(fields=["connection", "object", "local_id"], name="integrations_ref_local"),
        ]
        indexes = [models.Index(fields=["connection", "object", "parent_id"], condition=models.Q(parent_id__isnull=False),
                                name="integrations_ref_parent")]

    def __str__(self) -> str:
        return f"{self.object} {self.local_id} ↔ {self.remote_id}"


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        PULL = "pull", "Pull"
        PUSH = "push", "Push"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Done"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Unchanged or echoes of our own writes.")
    errors = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["connection", "-started_at"], name="integrations_run_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class SyncLog(models.Model):
    class Direction(models.TextChoices):
        IN = "in", "CRM → PRM"
        OUT = "out", "PRM → CRM"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="log")
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="log")
    object = models.CharField(max_length=20, choices=SyncObject.choices)
    record = models.CharField(max_length=40, blank=True, help_text="Remote id, or the local id when there is none.")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    error_code = models.CharField(max_length=60)
    message = models.TextField()
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["connection", "-at"], name="integrations_log_recent")]

    def __str__(self) -> str:
        return f"{self.error_code} {self.record}"
