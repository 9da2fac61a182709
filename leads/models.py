from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "created_at"], name="lead_partner_created_idx"),
            # business.metrics reads a period's leads from these two: covering, so that is an index-only scan instead
            # of heap fetches (converted leads are scattered: a lead is converted long after it was written). The
            # second is partial because an INCLUDE index cannot deduplicate the NULLs of the unconverted majority.
            models.Index(fields=["created_at"], include=["partner"], name="lead_created_cover_idx"),
            models.Index(
                fields=["converted_at"], include=["partner", "value"], condition=Q(converted_at__isnull=False),
                name="lead_converted_cover_idx",
            ),
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


class Customer(models.Model):
    """A converted lead. Like a partner, a customer stays in the system for good; there is no workflow."""

    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="customer")
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="customers"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["partner", "created_at"], name="customer_partner_idx")]

    def __str__(self):
        return self.name
