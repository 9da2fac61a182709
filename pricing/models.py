"""Price books (issue 17): products, price books scoped to countries / tiers / partners, and their entries.

Written only by ``pricing.services`` (the admin, the CSV import, the CRM sync and the demo data all call it); read by
``pricing.selectors``, which resolves a partner's price in one SQL statement. Entries and products are deactivated,
never deleted (deal lines and history keep pointing at them).
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from partners.models import Partner, Tier

COUNTRY = RegexValidator(r"^[A-Z]{2}\Z", "Use the two-letter ISO 3166-1 code in capitals, e.g. DE.")
CURRENCY = RegexValidator(r"^[A-Z]{3}\Z", "Use the three-letter ISO 4217 code in capitals, e.g. EUR.")


class Source(models.TextChoices):
    ADMIN = "admin", "Admin"
    UPLOAD = "upload", "CSV upload"
    CRM = "crm", "CRM sync"
    API = "api", "API"
    DEMO = "demo", "Demo data"


class PriceBatch(models.Model):
    """One write of many rows (an upload, a sync page): who, where from, what it changed; a failed upload keeps its
    first errors. Rows written by a batch point to it (provenance)."""

    class Status(models.TextChoices):
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=10, choices=Source.choices)
    label = models.CharField(max_length=255, blank=True, help_text="The file's name, or the sync run.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DONE)
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "price batches"

    def __str__(self):
        return f"{self.get_source_display()} #{self.pk} {self.label}".strip()


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64, unique=True, help_text="Stable code shared with the CRM and files.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ADMIN)
    batch = models.ForeignKey(PriceBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name", "id"], name="pricing_product_name_idx")]

    def __str__(self):
        return f"{self.name} ({self.sku})"


class PriceBook(models.Model):
    """A list of prices in one currency, valid between two dates, for a scope.

    Scope: the listed ``partners`` if any (nothing else counts then); otherwise ``tiers`` and/or ``countries`` (both
    must match when both are given); otherwise, when ``is_default``, everyone. A book with no scope that is not the
    default applies to nobody. See ``pricing.selectors`` for the resolution order.
    """

    code = models.CharField(max_length=64, unique=True, help_text="Stable code used by CSV files and the CRM sync.")
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, validators=[CURRENCY], default="EUR")
    valid_from = models.DateField(null=True, blank=True, help_text="Blank: since always.")
    valid_to = models.DateField(null=True, blank=True, help_text="Last day of validity; blank: no end.")
    is_default = models.BooleanField(default=False, help_text="Applies to every partner (the least specific scope).")
    priority = models.IntegerField(default=0, help_text="Among books of the same scope, the higher wins.")
    active = models.BooleanField(default=True)
    countries = ArrayField(
        models.CharField(max_length=2, validators=[COUNTRY]), default=list, blank=True,
        help_text="ISO 3166-1 alpha-2 codes, e.g. DE, FR.",
    )
    tiers = models.ManyToManyField(Tier, blank=True, related_name="+")
    partners = models.ManyToManyField(Partner, blank=True, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ADMIN)
    batch = models.ForeignKey(PriceBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_from__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="pricing_book_valid_range",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class PriceEntry(models.Model):
    """The unit price of a product in a book from ``min_quantity`` units up (the next tier of quantity overrides)."""

    book = models.ForeignKey(PriceBook, on_delete=models.PROTECT, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    unit_price = models.DecimalField(max_digits=18, decimal_places=4, validators=[MinValueValidator(0)])
    min_quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    active = models.BooleanField(default=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ADMIN)
    batch = models.ForeignKey(PriceBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["book", "product", "min_quantity"]
        verbose_name_plural = "price entries"
        constraints = [
            models.UniqueConstraint(fields=["book", "product", "min_quantity"], name="pricing_entry_key"),
            models.CheckConstraint(condition=Q(min_quantity__gte=1), name="pricing_entry_min_quantity"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="pricing_entry_price"),
        ]
        indexes = [
            # Resolution: the active entries of the matching books, per product, largest quantity tier first.
            models.Index(
                fields=["product", "book", "-min_quantity"], name="pricing_entry_resolve_idx",
                include=["unit_price"], condition=Q(active=True),
            ),
            models.Index(
                fields=["book", "product", "-min_quantity"], name="pricing_entry_book_idx",
                include=["unit_price"], condition=Q(active=True),
            ),
        ]

    def __str__(self):
        return f"{self.book.code} / {self.product.sku} ≥{self.min_quantity}: {self.unit_price}"
