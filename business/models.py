from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class Parameter(models.Model):
    """A business parameter tracked per partner: leads generated, revenue, or one an admin configures."""

    class Source(models.TextChoices):
        COMPUTED = "computed", "Computed from the system's own data"
        UPLOADED = "uploaded", "Uploaded (CSV) or sent by API"

    # Codes of the system parameters created by migration 0002 and computed by business.metrics.
    LEADS_GENERATED = "leads_generated"
    LEADS_CONVERTED = "leads_converted"
    REVENUE = "revenue"
    SYSTEM_CODES = (LEADS_GENERATED, LEADS_CONVERTED, REVENUE)

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=20, default="count", help_text="e.g. count, INR, USD, %")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOADED)
    is_system = models.BooleanField(default=False, editable=False)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class UploadBatch(models.Model):
    """One bulk upload (admin, manage.py or the API's bulk upsert): who, when, which file or request, and what it did."""

    class Kind(models.TextChoices):
        ACHIEVEMENTS = "achievements", "Achievements"
        TARGETS = "targets", "Targets"

    class Source(models.TextChoices):
        UPLOAD = "upload", "File upload"
        API = "api", "API"

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOAD)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPLIED)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    file_name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "upload batches"

    def __str__(self):
        return f"{self.get_kind_display()} from {self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class PeriodValue(models.Model):
    """A value of one parameter for one partner and one period (keyed by the period's first day)."""

    # No single-column indexes on partner/parameter: the unique key (partner, parameter, period_start) and the
    # (parameter, period_start) index serve those lookups, and every extra index slows the metrics' bulk upserts.
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, db_index=False)
    parameter = models.ForeignKey(Parameter, on_delete=models.PROTECT, db_index=False)
    period_start = models.DateField(help_text="First day of the month or quarter.")
    value = models.DecimalField(max_digits=18, decimal_places=4, validators=[MinValueValidator(0)])
    upload_batch = models.ForeignKey(UploadBatch, on_delete=models.SET_NULL, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Target(PeriodValue):
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["partner", "parameter", "-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "parameter", "period_start"], name="target_unique_key"),
        ]
        # (parameter, period) first, for every figure of one period; partner and value too, so the insight rules read
        # a partner-id range of one period index-only (target at risk: 1.2 s → 40 ms per half of 100k partners).
        indexes = [
            models.Index(fields=["parameter", "period_start", "partner"], include=["value"],
                         name="target_param_period_idx"),
            # The API's lists and syncs: cursor pages in (updated_at, id) order.
            models.Index(fields=["updated_at", "id"], name="target_updated_idx"),
            # A rep's page: their partners' rows in that order, from the index alone (business.selectors.
            # figures_visible_parts).
            models.Index(fields=["partner", "updated_at", "id"], name="target_partner_updated_idx"),
        ]

    def __str__(self):
        return f"Target {self.parameter_id} {self.period_start} = {self.value}"


class Achievement(PeriodValue):
    """What a partner generated: computed from our own leads, uploaded, or sent by API."""

    class Source(models.TextChoices):
        COMPUTED = "computed", "Computed"
        UPLOAD = "upload", "Upload"
        API = "api", "API"

    source = models.CharField(max_length=10, choices=Source.choices, default=Source.COMPUTED)

    class Meta:
        ordering = ["partner", "parameter", "-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "parameter", "period_start"], name="achievement_unique_key"),
        ]
        # (parameter, period) first, for every figure of one period; partner and value too, so the insight rules read
        # a partner-id range of one period index-only (target at risk: 1.2 s → 40 ms per half of 100k partners).
        indexes = [
            models.Index(fields=["parameter", "period_start", "partner"], include=["value"],
                         name="achievement_param_period_idx"),
            # The API's lists and syncs: cursor pages in (updated_at, id) order.
            models.Index(fields=["updated_at", "id"], name="achievement_updated_idx"),
            # A rep's page: their partners' rows in that order, from the index alone (business.selectors.
            # figures_visible_parts).
            models.Index(fields=["partner", "updated_at", "id"], name="achieve_partner_updated_idx"),
        ]

    def __str__(self):
        return f"Achievement {self.parameter_id} {self.period_start} = {self.value}"


class InactivityRule(models.Model):
    """The inactivity rules, edited by an admin: one row (``InactivityRule.load()``), created by migration 0003.

    A partner the rules govern (see business.services.rule_governed_sql) becomes Inactive when it breaks an enabled
    rule, and Active again when it meets them all.
    """

    engagement_enabled = models.BooleanField(
        "engagement rule on", default=True,
        help_text="Inactive when not engaged within the tier's engagement frequency × the grace factor.",
    )
    grace_factor = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.5"), validators=[MinValueValidator(Decimal("1"))],
        help_text="1.5: a Gold partner (every 14 days) becomes inactive after 21 days without engagement.",
    )
    business_enabled = models.BooleanField(
        "business rule on", default=False,
        help_text="Inactive when the parameter's generated value for the last full period is below the minimum.",
    )
    business_parameter = models.ForeignKey(
        Parameter, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Usually revenue. Partners created after that period ended are not judged by it.",
    )
    business_minimum = models.DecimalField(max_digits=18, decimal_places=4, default=0, validators=[MinValueValidator(0)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "inactivity rules"
        verbose_name_plural = "inactivity rules"

    def __str__(self):
        return "Inactivity rules"

    def save(self, *args, **kwargs):
        self.pk = 1  # a single row
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        rule = cls.objects.select_related("business_parameter").filter(pk=1).first()
        if rule is None:
            rule, _ = cls.objects.get_or_create(
                pk=1, defaults={"business_parameter": Parameter.objects.filter(code=Parameter.REVENUE).first()}
            )
        return rule
