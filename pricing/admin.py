"""Admin for products, price books and entries. Every save goes through ``pricing.services`` (validated, provenance
"admin"); nothing is deleted here (products and entries are deactivated). Entries also have the upload (preview →
confirm) of ``pricing.imports`` on the achievements' upload pages, and an export in the upload's columns."""

from django import forms
from django.contrib import admin
from import_export import fields, resources

from business.admin_views import ServiceImportMixin
from partners.exports import FormulaSafeResourceMixin
from pricing import services
from pricing.imports import COLUMNS, KIND, import_prices
from pricing.models import PriceBatch, PriceBook, PriceEntry, Product
from prm.admin import ReadOnlyAdminMixin


class NoDeleteMixin:
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["sku", "name", "active", "source", "updated_at"]
    list_filter = ["active", "source"]
    search_fields = ["sku", "name"]
    readonly_fields = ["source", "batch", "created_at", "updated_at"]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        services.product_save(product=obj)


class PriceBookForm(forms.ModelForm):
    """Country and currency codes are taken in any case ("de, at" → ["AT", "DE"])."""

    countries = forms.CharField(required=False, help_text="ISO 3166-1 alpha-2 codes, separated by commas: DE, AT.")

    class Meta:
        model = PriceBook
        fields = ["code", "name", "currency", "valid_from", "valid_to", "is_default", "priority", "active", "countries",
                  "tiers", "partners"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["countries"] = ", ".join(self.instance.countries)

    def clean_countries(self):
        codes = sorted({c.strip().upper() for c in self.cleaned_data["countries"].split(",") if c.strip()})
        bad = [c for c in codes if len(c) != 2 or not c.isascii() or not c.isalpha()]
        if bad:
            raise forms.ValidationError(f"Not two-letter country codes: {', '.join(bad)}.")
        return codes

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()


@admin.register(PriceBook)
class PriceBookAdmin(NoDeleteMixin, admin.ModelAdmin):
    form = PriceBookForm
    list_display = ["code", "name", "currency", "valid_from", "valid_to", "is_default", "priority", "active", "source"]
    list_filter = ["active", "is_default", "currency", "source"]
    search_fields = ["code", "name"]
    filter_horizontal = ["tiers"]
    raw_id_fields = ["partners"]
    readonly_fields = ["source", "batch", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        services.price_book_save(book=obj)

    def save_related(self, request, form, formsets, change):
        # The scope (tiers, partners) through the service, not form.save_m2m().
        services.price_book_save(
            book=form.instance, tiers=form.cleaned_data.get("tiers"), partners=form.cleaned_data.get("partners")
        )


class PriceEntryResource(FormulaSafeResourceMixin, resources.ModelResource):
    """Exports in the upload's columns, so an exported file uploads back unchanged."""

    price_book = fields.Field(attribute="book__code", column_name="price_book", readonly=True)
    sku = fields.Field(attribute="product__sku", column_name="sku", readonly=True)
    unit_price = fields.Field(column_name="unit_price", readonly=True)
    min_quantity = fields.Field(attribute="min_quantity", column_name="min_quantity", readonly=True)
    currency = fields.Field(attribute="book__currency", column_name="currency", readonly=True)

    class Meta:
        model = PriceEntry
        name = "Price entries"
        fields = COLUMNS
        export_order = COLUMNS

    def get_queryset(self):
        return super().get_queryset().filter(active=True).select_related("book", "product")

    def dehydrate_unit_price(self, obj):
        return format(obj.unit_price.normalize(), "f")


@admin.register(PriceEntry)
class PriceEntryAdmin(NoDeleteMixin, ServiceImportMixin, admin.ModelAdmin):
    list_display = ["book", "product", "min_quantity", "unit_price", "active", "source", "updated_at"]
    list_filter = ["active", "book", "source"]
    search_fields = ["product__sku", "product__name", "book__code"]
    list_select_related = ["book", "product"]
    raw_id_fields = ["product"]
    readonly_fields = ["source", "batch", "updated_at"]
    show_full_result_count = False
    import_kind = KIND
    import_columns = COLUMNS
    import_help = (
        "CSV (UTF-8, with or without BOM) or XLSX, header row price_book,sku,unit_price,min_quantity,currency "
        "(min_quantity defaults to 1; currency, when given, must be the book's). Books and products must exist."
    )
    resource_classes = [PriceEntryResource]

    def run_import(self, *, file, file_name, user, dry_run, file_format):
        return import_prices(file=file, file_name=file_name, user=user, dry_run=dry_run, file_format=file_format)

    def save_model(self, request, obj, form, change):
        services.price_entry_save(entry=obj)


@admin.register(PriceBatch)
class PriceBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """An audit trail of uploads and sync runs, written by the services only."""

    list_display = ["created_at", "source", "status", "label", "created_by", "rows_total", "rows_created",
                    "rows_updated", "rows_unchanged"]
    list_filter = ["source", "status"]
    list_select_related = ["created_by"]
