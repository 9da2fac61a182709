"""The partner portal's tables (layer 5, shared/DESIGN.md): who works at a partner (memberships, invitations, access
requests), deal registrations with their history, leads handed to partners, announcements and the portal feed, and
profile updates waiting for the rep's approval.

Writes go through ``portal.services`` (and the other ``portal.*_services`` modules); every portal read is scoped by
the viewer's membership in ``portal.selectors``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from leads.models import Lead
from partners.models import Partner, Tier
from prm.choices import ChoiceDisplayMixin


class Membership(ChoiceDisplayMixin, models.Model):
    """A person working at a partner: one partner per user (a partner user is never staff)."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Partner admin"
        MEMBER = "member", "Member"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # "Since your last visit": seen_at moves on each portal home visit; previous_seen_at is where the home's
    # "what happened" list starts (the visit before this one).
    seen_at = models.DateTimeField(null=True, blank=True)
    previous_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["partner", "role"], name="membership_partner_idx")]

    def __str__(self):
        return f"{self.user_id} @ {self.partner_id} ({self.role})"


class Invitation(ChoiceDisplayMixin, models.Model):
    """An emailed, single-use, expiring invitation to join a partner. Only the token's SHA-256 is stored."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The invitation email (the invitee has no account yet, so not a Notification): sent by a task, retried by beat
    # until it leaves; the row is never lost when SMTP is down.
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="invitation_partner_idx"),
            models.Index(fields=["created_at"], condition=Q(emailed_at__isnull=True), name="invitation_unsent_idx"),
        ]

    def __str__(self):
        return f"{self.email} → {self.partner_id}"


class PartnerDomain(models.Model):
    """An e-mail domain of a partner: people with an address there may ask to join it (its partner admin decides)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="email_domains")
    domain = models.CharField(max_length=253, unique=True, help_text="e.g. example.com (lower case, no @).")

    def __str__(self):
        return self.domain


class AccessRequest(ChoiceDisplayMixin, models.Model):
    """Someone with an address on a partner's domain asks to join it; the partner admin approves or declines."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="access_requests")
    email = models.EmailField()
    name = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "email"], condition=Q(status="pending"), name="access_request_one_pending"
            ),
        ]

    def __str__(self):
        return f"{self.email} → {self.partner_id} ({self.status})"


class DealProtection(models.Model):
    """How many days an approved registration protects the partner's deal, per tier (no row: DEAL_PROTECTION_DAYS)."""

    tier = models.OneToOneField(Tier, on_delete=models.CASCADE, related_name="deal_protection")
    days = models.PositiveSmallIntegerField(default=90)
    extension_days = models.PositiveSmallIntegerField(default=30, help_text="Granted once, on the partner's request.")

    def __str__(self):
        return f"{self.tier}: {self.days} days"


class DealRegistration(ChoiceDisplayMixin, models.Model):
    """A deal a partner registers: draft → submitted → approved / rejected / returned for more information; an
    approved one becomes a lead (source: this partner) protected until ``protection_expires_at``."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        RETURNED = "returned", "Returned for more information"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WON_PENDING = "won_pending", "Won, waiting for confirmation"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        EXPIRED = "expired", "Protection expired"

    OPEN = ("submitted", "returned", "approved", "won_pending")  # holding the prospect: conflicts and reminders

    class Stage(models.TextChoices):
        QUALIFYING = "qualifying", "Qualifying"
        PROPOSAL = "proposal", "Proposal"
        NEGOTIATION = "negotiation", "Negotiation"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="deal_registrations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A random token of the form that created it: a double submit (two taps, a resent POST) finds the same row.
    form_token = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.QUALIFYING)
    company = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="Normalised: lower case, no scheme, www or path.")
    domain_reversed = models.CharField(max_length=253, blank=True, editable=False)  # "com.example.sales": prefix search
    contact_name = models.CharField(max_length=150, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. DE.")
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    expected_close = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, help_text="Products, quantities, what the customer needs.")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who decides: the partner's rep when submitted.",
    )
    decision_reason = models.CharField(max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lead = models.OneToOneField(Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="registration")
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    protection_expires_at = models.DateTimeField(null=True, blank=True)
    extension_requested_at = models.DateTimeField(null=True, blank=True)
    extension_granted_at = models.DateTimeField(null=True, blank=True)
    extension_refused_at = models.DateTimeField(null=True, blank=True)  # one request: granted or refused, then no more
    # Reminder claims (conditional UPDATE … WHERE … IS NULL / < now, as the rep's-day reminders)
    review_reminded_at = models.DateTimeField(null=True, blank=True)
    expiry_notice = models.PositiveSmallIntegerField(
        default=0, help_text="Days before expiry of the last notice sent (14, then 3); 0 = none yet."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="deal_partner_idx"),
            models.Index(fields=["reviewer", "submitted_at"], condition=Q(status="submitted"), name="deal_review_idx"),
            models.Index(fields=["status", "-submitted_at"], name="deal_status_idx"),
            models.Index(fields=["domain_reversed"], name="deal_domain_idx", opclasses=["text_pattern_ops"]),
            models.Index(
                fields=["protection_expires_at"],
                condition=Q(status__in=["approved", "won_pending"]),
                name="deal_protection_idx",
            ),
            models.Index(fields=["updated_at", "id"], name="deal_updated_idx"),
            models.Index(fields=["submitted_at", "id"], name="deal_submitted_idx"),  # a manager's queue, oldest first
        ]
        # The trigram index on company (conflict check by name similarity) is created by the migration (RunSQL).

    def __str__(self):
        return f"{self.number} {self.company}"

    @property
    def number(self) -> str:
        """The registration number shown to partners and in emails."""
        return f"DR-{self.pk:06d}" if self.pk else "DR-(new)"


class DealEvent(ChoiceDisplayMixin, models.Model):
    """One step of a registration's history: what happened, by whom, why (shown to the partner and the reviewer)."""

    registration = models.ForeignKey(DealRegistration, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=DealRegistration.Status.choices)
    note = models.CharField(max_length=1000, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["registration", "at"], name="deal_event_idx")]

    def __str__(self):
        return f"{self.registration_id}: {self.status}"


class SharedLead(ChoiceDisplayMixin, models.Model):
    """A lead a rep hands to a partner: offered → accepted (then followed up) or declined / expired (back to the rep)."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        FOLLOWED_UP = "followed_up", "Followed up"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Deadline missed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN = ("offered", "accepted")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="shares")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="shared_leads")
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OFFERED)
    note = models.CharField(max_length=1000, blank=True)
    offered_at = models.DateTimeField(default=timezone.now)
    respond_by = models.DateTimeField()
    follow_up_by = models.DateTimeField(null=True, blank=True, help_text="Set when accepted.")
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    followed_up_at = models.DateTimeField(null=True, blank=True)
    response_note = models.CharField(max_length=1000, blank=True)
    reminded = models.PositiveSmallIntegerField(default=0, help_text="1 = reminded before the current deadline.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(status__in=["offered", "accepted"]), name="shared_lead_one_open"
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "-offered_at"], name="shared_lead_partner_idx"),
            models.Index(fields=["respond_by"], condition=Q(status="offered"), name="shared_lead_respond_idx"),
            models.Index(fields=["follow_up_by"], condition=Q(status="accepted"), name="shared_lead_follow_idx"),
        ]

    def __str__(self):
        return f"lead {self.lead_id} → partner {self.partner_id} ({self.status})"


class Announcement(models.Model):
    """A message from staff to a segment of partners (all, tiers, kinds, chosen partners): documents, trainings,
    webinars. Shown in the portal's bell and feed; read state per user in ``AnnouncementRead``."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.URLField(blank=True, help_text="Optional: https:// link to the document, training or webinar.")
    to_all = models.BooleanField(default=False, help_text="Every partner (the choices below are ignored).")
    tiers = models.ManyToManyField(Tier, blank=True, related_name="+")
    kinds = models.JSONField(default=list, blank=True, help_text='Partner kinds, e.g. ["organisation"].')
    partners = models.ManyToManyField(Partner, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["-published_at"], name="announcement_published_idx")]

    def __str__(self):
        return self.title


class AnnouncementRead(models.Model):
    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "announcement"], name="announcement_read_once")]

    def __str__(self):
        return f"{self.user_id} read {self.announcement_id}"


class PortalEvent(ChoiceDisplayMixin, models.Model):
    """The partner's feed and the home's "since your last visit": one row per thing that happened to a partner."""

    class Kind(models.TextChoices):
        DEAL_SUBMITTED = "deal_submitted", "Deal registered"
        DEAL_DECIDED = "deal_decided", "Deal decision"
        DEAL_EXPIRING = "deal_expiring", "Deal protection expiring"
        LEAD_SHARED = "lead_shared", "New lead for you"
        LEAD_RETURNED = "lead_returned", "Lead returned"
        COLLEAGUE_JOINED = "colleague_joined", "New colleague"
        ANNOUNCEMENT = "announcement", "New message"
        PROFILE = "profile", "Profile update"
        RESOURCE = "resource", "New resource"
        ONBOARDING = "onboarding", "Onboarding completed"  # library.onboarding_services

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    link = models.CharField(max_length=500, blank=True, help_text="A path inside the portal.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_key = models.CharField(max_length=100, help_text="What it is about, e.g. deal:12:approved (once each).")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "source_key"], name="portal_event_once"),
        ]
        indexes = [models.Index(fields=["partner", "-at"], name="portal_event_feed_idx")]

    def __str__(self):
        return f"{self.partner_id}: {self.title}"


class ProfileUpdate(ChoiceDisplayMixin, models.Model):
    """Changes a partner user proposes to the partner's profile (description, contacts, locations), applied by
    ``partners.services`` when the assigned rep approves."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Applied"
        REJECTED = "rejected", "Rejected"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="profile_updates")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changes = models.JSONField(help_text='{"notes": "...", "contacts": [...], "locations": [...]}')
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner"], condition=Q(status="pending"), name="profile_update_one_pending"
            ),
        ]

    def __str__(self):
        return f"profile update of {self.partner_id} ({self.status})"


class DealLine(models.Model):
    """A product on a deal registration (issue 17): the quantity, and the unit price the partner's price books gave
    when the line was saved (``pricing.selectors``), kept as it was. Written by ``portal.deal_line_services`` only."""

    registration = models.ForeignKey(DealRegistration, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("pricing.Product", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.CharField(max_length=3)
    price_book = models.ForeignKey("pricing.PriceBook", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["registration", "position"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "position"], name="portal_dealline_position"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="portal_dealline_quantity"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_id} at {self.unit_price} {self.currency}"

    @property
    def total(self):
        return self.unit_price * self.quantity
