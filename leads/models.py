from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from partners.models import ContactPoint
from prm.choices import ChoiceDisplayMixin


class Lead(ChoiceDisplayMixin, models.Model):
    class Stage(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED)

    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        help_text="The partner who generated this lead.",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.NEW)
    expected_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Revenue booked when the lead was won."
    )
    created_at = models.DateTimeField(default=timezone.now)
    converted_at = models.DateTimeField(null=True, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=300, blank=True, help_text="Why the lead was lost (required to lose it).")
    updated_at = models.DateTimeField(auto_now=True)
    # The lead's last touch: created, a stage change, an activity about it created or done (kept by leads.services
    # and activities.services; never moves back). The "lead without follow-up" insight reads it instead of the
    # latest of two histories per lead (1.5 s of every nightly run at 100k partners).
    last_touched_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "created_at"], name="lead_partner_created_idx"),
            models.Index(
                fields=["partner", "last_touched_at"], condition=Q(stage__in=["new", "contacted", "qualified"]),
                name="lead_open_touched_idx",
            ),
            # the leads list: a rep's assigned leads newest first; a stage filter newest first
            models.Index(fields=["assigned_to", "created_at"], name="lead_assignee_created_idx"),
            models.Index(fields=["stage", "created_at"], name="lead_stage_created_idx"),
            # business.metrics reads a period's leads from these two: covering, so that is an index-only scan instead
            # of heap fetches (converted leads are scattered: a lead is converted long after it was written). The
            # second is partial because an INCLUDE index cannot deduplicate the NULLs of the unconverted majority.
            models.Index(fields=["created_at"], include=["partner"], name="lead_created_cover_idx"),
            models.Index(
                fields=["converted_at"], include=["partner", "value"], condition=Q(converted_at__isnull=False),
                name="lead_converted_cover_idx",
            ),
            # The API's sync order (api.pagination): a page is an index walk from the cursor, for everyone or a rep.
            models.Index(fields=["updated_at", "id"], name="lead_updated_idx"),
            models.Index(fields=["assigned_to", "updated_at", "id"], name="lead_assignee_updated_idx"),
            models.Index(fields=["partner", "updated_at", "id"], name="lead_partner_updated_idx"),
        ]

    def __str__(self):
        return self.name


class LeadStageChange(ChoiceDisplayMixin, models.Model):
    """One row per stage move of a lead: its history."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=10, choices=Lead.Stage.choices, blank=True)
    to_stage = models.CharField(max_length=10, choices=Lead.Stage.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["lead", "changed_at"], name="leadstage_lead_idx")]

    def __str__(self):
        return f"{self.lead_id}: {self.from_stage or '—'} → {self.to_stage}"


class CustomerSegment(models.Model):
    """A group of customers engaged at the same rhythm ("engaged on a regular basis"). The default segment's
    frequency applies to customers with no segment; one segment at most is the default (a DB constraint)."""

    name = models.CharField(max_length=100, unique=True)
    engage_every_days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text="Engage each customer of this segment at least every N days.",
    )
    is_default = models.BooleanField(default=False, help_text="Applies to customers with no segment.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_segment"),
        ]

    def __str__(self):
        return self.name


class Customer(models.Model):
    """A converted lead. Like a partner, a customer stays in the system for good; there is no workflow."""

    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    segment = models.ForeignKey(
        CustomerSegment, on_delete=models.SET_NULL, null=True, blank=True, related_name="customers",
        help_text="Decides how often the customer must be engaged (no segment: the default segment).",
    )
    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="customer")
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="customers"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    # Denormalised, kept by the services (like the partner's): the latest done activity, the earliest planned one
    # ahead, and when the next engagement is due (last engaged, or created, + the segment's frequency).
    last_engaged_at = models.DateTimeField(null=True, blank=True)
    next_engagement_at = models.DateTimeField(null=True, blank=True)
    engagement_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["partner", "created_at"], name="customer_partner_idx"),
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            # the list's search (name or company icontains = UPPER(…) LIKE '%…%'): trigram indexes, so a rare term is
            # two index lookups instead of reading 300k customers (0.5–1.0 s → 10–20 ms)
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="customer_name_trgm_idx"),
            GinIndex(OpClass(Upper("company"), name="gin_trgm_ops"), name="customer_company_trgm_idx"),
            models.Index(fields=["assigned_to", "engagement_due_at"], name="customer_assignee_due_idx"),
            models.Index(fields=["engagement_due_at"], name="customer_due_idx"),
            # The API's sync order (api.pagination), as for leads.
            models.Index(fields=["updated_at", "id"], name="customer_updated_idx"),
            models.Index(fields=["assigned_to", "updated_at", "id"], name="customer_assignee_updated_idx"),
            models.Index(fields=["partner", "updated_at", "id"], name="customer_partner_updated_idx"),
        ]

    def __str__(self):
        return self.name


class CustomerContact(ChoiceDisplayMixin, models.Model):
    """A way to reach a customer (the partner's contact kinds), one primary per kind."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=10, choices=ContactPoint.Kind.choices)
    value = models.CharField(max_length=254)
    label = models.CharField(max_length=50, blank=True, help_text="e.g. Office, Owner, Accounts")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["kind", "-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind"], condition=Q(is_primary=True), name="one_primary_customer_contact_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value}"


class CustomerLocation(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="locations")
    label = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=500)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="one_primary_customer_location"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="customer_location_lat_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="customer_location_lng_range",
            ),
        ]

    def __str__(self):
        return self.label or self.address
