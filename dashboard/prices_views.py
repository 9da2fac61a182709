"""A partner's price list for staff (/partners/<id>/prices/): what the partner pays, per product, with the book that
gave each price. ``partner_get_for_user`` first (another rep's partner: 404), then one query for the page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from partners.selectors import partner_get_for_user
from pricing.selectors import price_list_page

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "HEAD"])
def partner_prices(request, pk):
    """Queries (tests/pricing/test_pages): session, user, the visibility check, the partner (tier, rep), the page with
    its total."""
    partner = partner_get_for_user(request.user, pk)
    search = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    page = price_list_page(partner=partner, page=request.GET.get("page"), per_page=PAGE_SIZE, search=search)
    return render(request, "partners/partner_prices.html", {"partner": partner, "page": page, "q": search})
