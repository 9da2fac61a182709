"""The partner's price list in the portal (/portal/prices/) and the deal form's price lookup (/portal/prices/quote/).

Scoped by the viewer's membership (``portal.selectors.portal_member``): there is no partner id in these URLs, a
partner user only ever sees their own partner's prices (everyone else: 404). Prices come from
``pricing.selectors`` (one query each)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from portal.selectors import portal_member
from pricing.models import Product
from pricing.selectors import price_for_partner, price_list_page

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "HEAD"])
def price_list(request: HttpRequest) -> HttpResponse:
    """A page of the partner's prices, searchable by SKU or name. Queries: session, user, membership (partner, tier),
    the page with its total (pricing.selectors.price_list_page)."""
    member = portal_member(request)
    search = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    page = price_list_page(partner=member.partner, page=request.GET.get("page"), per_page=PAGE_SIZE, search=search)
    return render(request, "portal/prices/list.html", {"member": member, "page": page, "prices": page.rows,
                                                       "q": search})


@login_required
@require_http_methods(["GET", "HEAD"])
def price_quote(request: HttpRequest) -> JsonResponse:
    """``?sku=…&quantity=…``: the partner's unit price for the deal form's lines, as JSON (``{"found": false}`` when
    the product is unknown or has no price for the partner). Queries: session, user, membership, product, price."""
    member = portal_member(request)
    sku = request.GET.get("sku", "").replace("\x00", "").strip()[:64]
    try:
        quantity = min(max(int(request.GET.get("quantity", "1")), 1), 1_000_000)
    except ValueError:
        quantity = 1
    product = Product.objects.filter(sku=sku, active=True).only("id", "name", "sku").first() if sku else None
    price = price_for_partner(partner=member.partner, product_id=product.pk, quantity=quantity) if product else None
    if price is None:
        return JsonResponse({"found": False, "sku": sku})
    return JsonResponse({
        "found": True, "sku": price.sku, "name": price.name, "unit_price": _plain(price.unit_price),
        "currency": price.currency, "quantity": quantity, "total": _plain(price.unit_price * quantity),
    })


def _plain(value) -> str:
    """A Decimal as plain digits without trailing zeros: 90.0000 → "90", 10.5000 → "10.5" (never "9E+1")."""
    return format(value.normalize(), "f")
