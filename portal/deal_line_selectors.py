"""Reads of a deal registration's product lines (``portal.models.DealLine``), for both sides' pages and the form."""

from decimal import Decimal

from portal.models import DealLine, DealRegistration, Membership
from pricing.selectors import Price, price_list_for_partner

DATALIST_LIMIT = 2000  # products suggested in the deal form (any other SKU can still be typed and is priced)


def deal_lines(registration: DealRegistration) -> list[DealLine]:
    """The lines in order, with their products: one query."""
    return list(DealLine.objects.filter(registration=registration).select_related("product").order_by("position"))


def deal_lines_total(lines: list[DealLine]) -> Decimal | None:
    return sum((line.total for line in lines), Decimal(0)) if lines else None


def deal_line_rows(lines: list[DealLine]) -> list[dict]:
    """The form's rows for saved lines (no query)."""
    return [{"sku": line.product.sku, "quantity": line.quantity, "unit_price": line.unit_price,
             "currency": line.currency, "total": line.total} for line in lines]


def deal_product_choices(member: Membership) -> list[Price]:
    """The products the partner has a price for, by name (the form's suggestions, at most DATALIST_LIMIT): one
    query."""
    return price_list_for_partner(partner=member.partner, limit=DATALIST_LIMIT)
