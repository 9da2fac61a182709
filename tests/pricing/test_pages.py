"""The price list pages — a partner's for staff (/partners/<id>/prices/) and the partner user's own in the portal
(/portal/prices/) — and the deal form's product lines. Query budgets with enough rows for an N+1 to show; another
rep's partner, or another partner's prices, are never shown."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from partners.forms import PartnerForm
from portal.models import DealLine, DealRegistration
from portal.selectors import PARTNER, SESSION_KIND
from tests.factories import PartnerFactory, tier
from tests.pricing.conftest import book, products

pytestmark = pytest.mark.django_db

DEAL = {"company": "Initech", "domain": "initech.example", "contact_name": "Bill", "contact_email": "bill@example.com",
        "contact_phone": "+49 1", "country": "DE", "amount": "", "currency": "EUR", "expected_close": "2027-03-31",
        "notes": ""}


def portal_client(member):
    client = Client()
    client.force_login(member.user)
    session = client.session
    session[SESSION_KIND] = PARTNER
    session.save()
    return client


@pytest.fixture
def catalogue(acme, globex):
    """120 products in the default book; Acme has its own book for 2 of them; Globex a secret one."""
    ids = products(*[f"SKU-{n:03d}" for n in range(120)])
    book("LIST", is_default=True, prices={sku: 100 + n for n, sku in enumerate(sorted(ids))} | {("SKU-000", 10): 90})
    book("ACME", partner_codes=[acme.code], prices={"SKU-001": 55, "SKU-002": 56})
    book("GLOBEX", partner_codes=[globex.code], prices={"SKU-001": 1})
    return ids


@pytest.fixture
def acme_web(acme_member):
    return portal_client(acme_member)


# --- Staff ---------------------------------------------------------------------------------------------------------


def test_rep_sees_the_partners_price_list_in_constant_queries(rep_client, acme, catalogue, django_assert_num_queries):
    url = reverse("partners:prices", args=[acme.pk])
    with django_assert_num_queries(5):
        # session, user, the visibility check, the partner (tier, rep), the page of prices with its total
        response = rep_client.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and "120 products" in body and body.count('data-sku="') == 50
    assert "SKU-001" in body and "55" in body and "ACME" in body.upper()
    with django_assert_num_queries(5):
        page = rep_client.get(url + "?page=3&q=sku")
    assert page.content.decode().count('data-sku="') == 20
    assert rep_client.get(url + "?page=x&q=%00<script>").status_code == 200


def test_the_partner_page_links_to_the_price_list(rep_client, acme):
    body = rep_client.get(reverse("partners:detail", args=[acme.pk])).content.decode()
    assert reverse("partners:prices", args=[acme.pk]) in body


def test_another_reps_partner_is_a_404(rep_client, globex, catalogue, client, manager):
    assert rep_client.get(reverse("partners:prices", args=[globex.pk])).status_code == 404
    assert rep_client.get(reverse("partners:prices", args=[999999])).status_code == 404
    client.force_login(manager)
    assert client.get(reverse("partners:prices", args=[globex.pk])).status_code == 200


def test_anonymous_is_sent_to_login(client, acme):
    for url in (reverse("partners:prices", args=[acme.pk]), reverse("portal:prices"), reverse("portal:price_quote")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_partner_country_in_the_form_is_upper_cased(rep, acme):
    form = PartnerForm(data={"name": acme.name, "kind": "organisation", "tier": acme.tier_id, "country": "fr",
                             "status": "active"},
                       instance=acme, user=rep)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["country"] == "FR"
    form = PartnerForm(data={"name": acme.name, "kind": "organisation", "country": "F1", "status": "active"}, instance=acme, user=rep)
    assert not form.is_valid() and "country" in form.errors


# --- Portal --------------------------------------------------------------------------------------------------------


def test_partner_user_sees_their_own_prices(acme_web, catalogue, django_assert_num_queries):
    with django_assert_num_queries(5):
        # session, user, membership (partner, tier), the page of prices with its total, the bell's count
        response = acme_web.get(reverse("portal:prices"))
    body = response.content.decode()
    assert response.status_code == 200 and body.count('data-sku="') == 50
    assert "Acme" in body and "Globex" not in body.replace("GLOBEX", "")
    rows = {p.sku: p for p in response.context["prices"]}
    assert rows["SKU-001"].unit_price == Decimal("55") and rows["SKU-001"].book_code == "ACME"


def test_another_partners_prices_never_show(globex_admin, catalogue):
    client = portal_client(globex_admin)
    rows = {p.sku: p for p in client.get(reverse("portal:prices") + "?q=SKU-00").context["prices"]}
    assert rows["SKU-001"].unit_price == Decimal("1") and rows["SKU-002"].unit_price == Decimal("102")


def test_staff_have_no_portal_price_list(rep_client, catalogue):
    assert rep_client.get(reverse("portal:prices")).status_code == 404
    assert rep_client.get(reverse("portal:price_quote") + "?sku=SKU-001").status_code == 404


def test_quote(acme_web, catalogue):
    quote = acme_web.get(reverse("portal:price_quote") + "?sku=SKU-000&quantity=12").json()
    assert quote == {"found": True, "sku": "SKU-000", "name": "Product SKU-000", "unit_price": "90", "currency": "EUR",
                     "quantity": 12, "total": "1080"}
    assert acme_web.get(reverse("portal:price_quote") + "?sku=SKU-001").json()["unit_price"] == "55"
    for query in ("?sku=nope", "?sku=", "?sku=SKU-001&quantity=abc", "?quantity=-5"):
        assert acme_web.get(reverse("portal:price_quote") + query).status_code == 200


# --- Deal registration with product lines --------------------------------------------------------------------------


def test_deal_with_product_lines_at_the_partners_price(acme_web, catalogue, rep):
    page = acme_web.get(reverse("portal:deal_new"))
    assert page.status_code == 200 and 'list="deal-products"' in page.content.decode()
    data = {**DEAL, "form_token": "t-lines", "action": "draft",
            "line_sku": ["SKU-001", "SKU-000", ""], "line_quantity": ["2", "10", ""]}
    response = acme_web.post(reverse("portal:deal_new"), data)
    assert response.status_code == 302
    registration = DealRegistration.objects.get()
    lines = list(DealLine.objects.filter(registration=registration).values_list(
        "position", "product__sku", "quantity", "unit_price", "currency"))
    assert lines == [(1, "SKU-001", 2, Decimal("55"), "EUR"), (2, "SKU-000", 10, Decimal("90"), "EUR")]
    assert registration.amount == Decimal("1010.00") and registration.currency == "EUR"  # blank amount: the total
    detail = acme_web.get(response["Location"]).content.decode()
    assert 'id="deal-line-list"' in detail and "1,010" in detail.replace("\u202f", ",") or "1010" in detail
    # Editing the draft shows the lines and replaces them; the amount that was their total follows the new lines.
    edit = acme_web.get(reverse("portal:deal_edit", args=[registration.pk])).content.decode()
    assert 'value="SKU-001"' in edit and 'value="SKU-000"' in edit
    acme_web.post(reverse("portal:deal_edit", args=[registration.pk]),
                  {**DEAL, "amount": "1010.00", "action": "draft", "line_sku": ["SKU-001"], "line_quantity": ["1"]})
    assert DealRegistration.objects.get().amount == Decimal("55.00")
    acme_web.post(reverse("portal:deal_edit", args=[registration.pk]),
                  {**DEAL, "amount": "5", "action": "draft", "line_sku": ["SKU-002"], "line_quantity": ["1"]})
    assert list(registration.lines.values_list("product__sku", "unit_price")) == [("SKU-002", Decimal("56"))]
    assert DealRegistration.objects.get().amount == Decimal("5")  # an amount typed in stays


def test_staff_see_the_lines_of_a_submitted_deal(acme_web, catalogue, rep_client):
    acme_web.post(reverse("portal:deal_new"), {**DEAL, "form_token": "t2", "action": "submit",
                                               "line_sku": ["SKU-001"], "line_quantity": ["3"]})
    registration = DealRegistration.objects.get()
    assert registration.status == DealRegistration.Status.SUBMITTED
    body = rep_client.get(reverse("deals:detail", args=[registration.pk])).content.decode()
    assert 'id="deal-line-list"' in body and "SKU-001" in body


@pytest.mark.parametrize(("skus", "quantities", "message"), [
    (["NOPE"], ["1"], "Line 1: no product has the SKU"),
    (["SKU-001", "SKU-002"], ["1", "0"], "Line 2: the quantity"),
    (["SKU-001"], ["abc"], "Line 1: the quantity"),
    (["", "SKU-001"], ["4", "1"], "Line 1: choose a product"),
])
def test_bad_lines_are_named_and_nothing_is_written(acme_web, catalogue, skus, quantities, message):
    response = acme_web.post(reverse("portal:deal_new"), {**DEAL, "form_token": "t3", "action": "draft",
                                                          "line_sku": skus, "line_quantity": quantities})
    assert response.status_code == 400 and message in response.content.decode()
    assert not DealRegistration.objects.exists() and not DealLine.objects.exists()
    assert f'value="{skus[-1]}"' in response.content.decode()  # what was typed is kept


def test_a_product_without_a_price_for_the_partner_is_refused(acme_web, acme):
    products("LONELY")
    book("OTHER", partner_codes=[PartnerFactory(tier=tier("Silver")).code], prices={"LONELY": 5})
    response = acme_web.post(reverse("portal:deal_new"), {**DEAL, "form_token": "t4", "action": "draft",
                                                          "line_sku": ["LONELY"], "line_quantity": ["1"]})
    assert response.status_code == 400 and "has no price for your company" in response.content.decode()
    assert not DealRegistration.objects.exists()


def test_a_deal_without_lines_still_works(acme_web):
    response = acme_web.post(reverse("portal:deal_new"), {**DEAL, "form_token": "t5", "action": "draft",
                                                          "amount": "100"})
    assert response.status_code == 302 and DealRegistration.objects.get().amount == Decimal("100")
