from urllib.parse import urlencode

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from prm.choices import ChoiceDisplayMixin


class Tier(models.Model):
    """Partner tier (Platinum/Gold/Silver by default); decides how often a partner must be engaged."""

    name = models.CharField(max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(unique=True, help_text="1 is the highest tier.")
    engage_every_days = models.PositiveSmallIntegerField(help_text="A partner of this tier is engaged at least this often.")

    class Meta:
        ordering = ["rank"]

    def __str__(self):
        return self.name


class ProfileField(models.Model):
    """An admin-configured field of the partner profile; values live in ``Partner.profile`` under ``key``."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        URL = "url", "Web address"
        CHOICE = "choice", "Choice"

    key = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(default=list, blank=True, help_text='For "choice" fields: a JSON list of options.')
    required = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "label"]

    def __str__(self):
        return self.label


class Partner(ChoiceDisplayMixin, models.Model):
    class Kind(models.TextChoices):
        ORGANISATION = "organisation", "Organisation"
        INDIVIDUAL = "individual", "Individual"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    class StatusSetBy(models.TextChoices):
        MANUAL = "manual", "Set by hand"
        RULE = "rule", "Set by a rule"

    code = models.CharField(max_length=64, unique=True, help_text="Stable external code used by CSV files and sync.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ORGANISATION)
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="partners", null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=255, blank=True)
    status_set_by = models.CharField(max_length=10, choices=StatusSetBy.choices, default=StatusSetBy.MANUAL)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="partners"
    )
    business_potential = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True, help_text="Expected business per year."
    )
    website = models.URLField(blank=True)
    country = models.CharField(
        max_length=2, blank=True, default="", db_default="",  # db_default: bulk COPY/INSERTs that name no country
        validators=[RegexValidator(r"^[A-Z]{2}\Z", "Use the two-letter ISO 3166-1 code, e.g. DE.")],
        help_text="ISO 3166-1 alpha-2 code (e.g. DE); decides which country price books apply.",
    )
    notes = models.TextField(blank=True)
    profile = models.JSONField(default=dict, blank=True, help_text="Values of the configurable profile fields.")
    # Denormalised from activities by activities.services, in the same transaction, so lists sort/filter by index.
    last_engaged_at = models.DateTimeField(null=True, blank=True)
    next_engagement_at = models.DateTimeField(null=True, blank=True)
    # When the tier's engagement frequency runs out: last engagement (or creation) + tier.engage_every_days.
    engagement_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Lower-cased name, code and contact values (phones also as digits), kept by partners.services; see
    # partners/search.py. One trigram index on it serves the list's search.
    search_document = models.TextField(default="", blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        permissions = [("view_all_partners", "Can see every partner, not only those assigned to them")]
        indexes = [
            models.Index(fields=["name", "id"], name="partner_name_idx"),
            models.Index(fields=["assigned_to", "name", "id"], name="partner_assignee_name_idx"),
            models.Index(fields=["last_engaged_at", "id"], name="partner_last_engaged_idx"),
            models.Index(fields=["assigned_to", "last_engaged_at", "id"], name="partner_assignee_engaged_idx"),
            models.Index(fields=["engagement_due_at"], name="partner_due_idx"),
            models.Index(fields=["assigned_to", "engagement_due_at"], name="partner_assignee_due_idx"),
            # Today's overdue partners, highest tier first: the most overdue of each tier (partners.selectors).
            models.Index(fields=["tier", "engagement_due_at"], name="partner_tier_due_idx"),
            models.Index(fields=["tier", "status"], name="partner_tier_status_idx"),
            models.Index(fields=["status", "name"], name="partner_status_name_idx"),
            # The API's sync order (api.pagination): a page is an index walk from the cursor, for everyone or a rep.
            models.Index(fields=["updated_at", "id"], name="partner_updated_idx"),
            models.Index(fields=["assigned_to", "updated_at", "id"], name="partner_assignee_updated_idx"),
            GinIndex(fields=["search_document"], opclasses=["gin_trgm_ops"], name="partner_search_trgm_idx"),
            # A search sorted by name walks this index and tests the document inside it (an index-only scan): no
            # heap fetch per skipped row. 'harbor' at 1M partners: 273 ms through partner_name_idx, 33 ms cold here.
            models.Index(fields=["name", "id"], include=["search_document"], name="partner_name_search_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_overdue(self):
        return self.engagement_due_at is not None and self.engagement_due_at < timezone.now()


class StatusChange(ChoiceDisplayMixin, models.Model):
    """One row per change of a partner's Active/Inactive status (by hand or by a rule)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Partner.Status.choices)
    to_status = models.CharField(max_length=10, choices=Partner.Status.choices)
    reason = models.CharField(max_length=255, blank=True)
    set_by = models.CharField(max_length=10, choices=Partner.StatusSetBy.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["partner", "-changed_at"], name="statuschange_partner_idx")]

    def __str__(self):
        return f"{self.partner_id}: {self.from_status} → {self.to_status}"


class CodeChange(models.Model):
    """One row per change of a partner's code: the key of imports and sync, so every change is kept."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="code_changes")
    old_code = models.CharField(max_length=64)
    new_code = models.CharField(max_length=64)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["old_code"], name="codechange_old_code_idx")]

    def __str__(self):
        return f"{self.partner_id}: {self.old_code} → {self.new_code}"


class ContactPoint(ChoiceDisplayMixin, models.Model):
    class Kind(models.TextChoices):
        PHONE = "phone", "Phone"
        MOBILE = "mobile", "Mobile"
        EMAIL = "email", "Email"
        WHATSAPP = "whatsapp", "WhatsApp"
        WECHAT = "wechat", "WeChat"

    class Channel(models.TextChoices):
        """How a partner prefers to be reached (the list's and Today's one-tap action)."""

        WHATSAPP = "whatsapp", "WhatsApp"
        WECHAT = "wechat", "WeChat"
        SMS = "sms", "SMS"
        CALL = "call", "Call"
        EMAIL = "email", "Email"

    # The contact kinds each channel can use (a WeChat id cannot be phoned, an email cannot get an SMS).
    CHANNEL_KINDS = {
        Channel.WHATSAPP: (Kind.WHATSAPP, Kind.MOBILE),
        Channel.WECHAT: (Kind.WECHAT,),
        Channel.SMS: (Kind.MOBILE, Kind.PHONE),
        Channel.CALL: (Kind.MOBILE, Kind.PHONE, Kind.WHATSAPP),
        Channel.EMAIL: (Kind.EMAIL,),
    }

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=254)
    label = models.CharField(max_length=50, blank=True, help_text="e.g. Office, Owner, Accounts")
    is_primary = models.BooleanField(default=False)
    preferred_channel = models.CharField(
        max_length=10, choices=Channel.choices, blank=True, default="", db_default="",
        verbose_name="preferred messenger",
        help_text="Mark one contact of the partner as how they prefer to be reached.",
    )

    class Meta:
        ordering = ["kind", "-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "kind"], condition=Q(is_primary=True), name="one_primary_contact_per_kind"
            ),
            # At most one preferred contact per partner; its index also serves the list's lookup of it.
            models.UniqueConstraint(
                fields=["partner"], condition=~Q(preferred_channel=""), name="one_preferred_contact_per_partner"
            ),
            models.CheckConstraint(
                condition=Q(preferred_channel="")
                | Q(preferred_channel="whatsapp", kind__in=["whatsapp", "mobile"])
                | Q(preferred_channel="wechat", kind="wechat")
                | Q(preferred_channel="sms", kind__in=["mobile", "phone"])
                | Q(preferred_channel="call", kind__in=["mobile", "phone", "whatsapp"])
                | Q(preferred_channel="email", kind="email"),
                name="preferred_channel_fits_kind",
            ),
        ]
        indexes = [models.Index(fields=["value"], name="contactpoint_value_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value}"

    def clean(self):
        super().clean()
        if self.preferred_channel and self.kind not in self.CHANNEL_KINDS.get(self.preferred_channel, ()):
            kinds = " or ".join(ContactPoint.Kind(kind).label for kind in self.CHANNEL_KINDS[self.preferred_channel])
            raise ValidationError({
                "preferred_channel": f"{self.get_preferred_channel_display()} needs a {kinds} contact, "
                f"not {self.get_kind_display()}."
            })


class Location(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="locations")
    label = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=500)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["partner"], condition=Q(is_primary=True), name="one_primary_location"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90), name="location_lat_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="location_lng_range",
            ),
        ]

    def __str__(self):
        return self.label or self.address

    @property
    def maps_url(self):
        if self.latitude is not None and self.longitude is not None:
            query = f"{self.latitude},{self.longitude}"
        else:
            query = self.address
        return "https://www.google.com/maps/search/?" + urlencode({"api": 1, "query": query})
