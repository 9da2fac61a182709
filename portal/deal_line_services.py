"""Product lines of a deal registration (issue 17): each line is a product and a quantity, priced at the partner's
price (``pricing.selectors.prices_for_partner``: the most specific valid price book, the quantity break that applies)
when the draft is saved; the price is stored on the line and stays as it was. Only this module writes ``DealLine``.

``deal_save_with_lines`` is what the portal's deal form calls: the lines are checked and priced first, then the draft
is saved (``portal.deal_services.deal_save``) and its lines replaced, in one transaction — a bad line leaves nothing
written. With lines and no estimated amount, the amount becomes the lines' total (and the currency theirs).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.deal_services import deal_save
from portal.models import DealLine, DealRegistration, Membership
from pricing.models import Product
from pricing.selectors import Price, prices_for_partner

MAX_LINES = 50
MAX_QUANTITY = 1_000_000
_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class PricedLine:
    product: Product
    quantity: int
    price: Price

    @property
    def total(self) -> Decimal:
        return self.price.unit_price * self.quantity


def deal_lines_price(*, member: Membership, lines: Sequence[tuple[str, int]]) -> list[PricedLine]:
    """``lines`` as ``(sku, quantity)`` priced for ``member``'s partner; ValidationError({"lines": [...]}) naming each
    bad line ("Line 2: …") — an unknown or inactive product, no price for it, a quantity out of range, lines in
    different currencies. Two queries (the products, the prices) when each product is on one line."""
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": f"At most {MAX_LINES} product lines."})
    errors = []
    skus = {sku for sku, _q in lines}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus, active=True)} if skus else {}
    for number, (sku, quantity) in enumerate(lines, start=1):
        if sku not in products:
            errors.append(f"Line {number}: no product has the SKU {sku[:64]!r}.")
        if not 1 <= quantity <= MAX_QUANTITY:
            errors.append(f"Line {number}: the quantity must be between 1 and {MAX_QUANTITY:,}.")
    if errors:
        raise ValidationError({"lines": errors})
    # Each line at its own quantity (one query; see _prices for a product on several lines).
    wanted = sorted({(products[sku].pk, quantity) for sku, quantity in lines})
    found = _prices(member, wanted)
    priced = []
    for number, (sku, quantity) in enumerate(lines, start=1):
        price = found.get((products[sku].pk, quantity))
        if price is None:
            errors.append(f"Line {number}: {products[sku].name} has no price for your company; ask your channel "
                          "manager.")
        else:
            priced.append(PricedLine(products[sku], quantity, price))
    if not errors and len({line.price.currency for line in priced}) > 1:
        errors.append("The products are priced in different currencies: register them as separate deals.")
    if errors:
        raise ValidationError({"lines": errors})
    return priced


def _prices(member: Membership, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], Price]:
    """Prices per (product, quantity). ``prices_for_partner`` prices a product once (at its largest quantity), so a
    product given at several quantities is priced per distinct quantity: one query per extra quantity of the same
    product (rare: a deal lists a product once)."""
    result: dict[tuple[int, int], Price] = {}
    remaining = list(wanted)
    while remaining:
        batch: dict[int, int] = {}
        rest = []
        for product_id, quantity in remaining:
            if product_id in batch:
                rest.append((product_id, quantity))
            else:
                batch[product_id] = quantity
        found = prices_for_partner(partner=member.partner, lines=list(batch.items()))
        for product_id, quantity in batch.items():
            if product_id in found:
                result[product_id, quantity] = found[product_id]
        remaining = rest
    return result


@transaction.atomic
def deal_save_with_lines(
    *, member: Membership, registration: DealRegistration | None = None, form_token: str = "",
    lines: Sequence[tuple[str, int]] | None = None, **fields: object,
) -> DealRegistration:
    """``deal_save`` plus the product lines (``(sku, quantity)``; None leaves the lines as they are, an empty list
    removes them), in one transaction; raises ValidationError (nothing written) for a bad line or field. With lines,
    a blank amount — or one still equal to the draft's previous lines' total — becomes the new lines' total."""
    priced = deal_lines_price(member=member, lines=lines) if lines else []
    if priced and registration is not None and fields.get("amount") not in (None, "") and \
            Decimal(fields["amount"]) == _lines_total(registration):
        fields["amount"] = None  # the amount was the old lines' total (filled in on the last save): follow the lines
    if priced and fields.get("amount") in (None, ""):
        fields["amount"] = sum((line.total for line in priced), Decimal(0)).quantize(_CENTS, ROUND_HALF_UP)
        fields["currency"] = priced[0].price.currency
    saved = deal_save(member=member, registration=registration, form_token=form_token, **fields)
    if lines is not None and saved.status in (DealRegistration.Status.DRAFT, DealRegistration.Status.RETURNED):
        deal_lines_set(registration=saved, priced=priced)
    return saved


def _lines_total(registration: DealRegistration) -> Decimal | None:
    lines = list(DealLine.objects.filter(registration=registration).values_list("unit_price", "quantity"))
    if not lines:
        return None
    return sum((price * quantity for price, quantity in lines), Decimal(0)).quantize(_CENTS, ROUND_HALF_UP)


def deal_lines_set(*, registration: DealRegistration, priced: Sequence[PricedLine]) -> list[DealLine]:
    """Replace the lines of a draft (two queries). Call inside the transaction that saved the draft."""
    DealLine.objects.filter(registration=registration).delete()
    return DealLine.objects.bulk_create([
        DealLine(registration=registration, product=line.product, position=position, quantity=line.quantity,
                 unit_price=line.price.unit_price, currency=line.price.currency, price_book_id=line.price.book_id)
        for position, line in enumerate(priced, start=1)
    ])
