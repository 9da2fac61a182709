"""The partner list's page (partners.selectors.partner_list_page): the count and the page's ids from one capped
query, a capped or estimated count for big sets, and page numbers that never fail."""

import pytest
from django.db import connection

from partners.models import Partner
from partners.selectors import partner_list_filter, partner_list_page
from tests import factories

pytestmark = pytest.mark.django_db


def page_of(user, data=None, page=1, cap=10, per_page=4):
    filterset = partner_list_filter(user=user, data=data or {})
    return partner_list_page(filterset=filterset, page=page, per_page=per_page, cap=cap)


@pytest.fixture
def partners(rep):
    return [factories.PartnerFactory(name=f"Shop {n:02d}", assigned_to=rep) for n in range(13)]


def test_exact_count_and_pages_under_the_cap(rep, partners):
    first = page_of(rep, cap=20)
    assert (first.count, first.count_exact, first.num_pages, first.has_next) == (13, True, 4, True)
    assert [p.name for p in first.rows] == ["Shop 00", "Shop 01", "Shop 02", "Shop 03"]
    last = page_of(rep, page=4, cap=20)
    assert [p.name for p in last.rows] == ["Shop 12"] and not last.has_next and last.has_previous


def test_a_big_result_shows_a_capped_count(rep, partners):
    page = page_of(rep, {"q": "shop"})
    assert (page.count, page.count_capped, page.num_pages, page.has_next) == (10, True, None, True)


def test_pages_beyond_the_cap_read_with_an_offset_and_know_their_end(rep, partners):
    page = page_of(rep, page=3)  # rows 9-12: offset 8 + 4 > cap 10
    assert [p.name for p in page.rows] == ["Shop 08", "Shop 09", "Shop 10", "Shop 11"] and page.has_next
    last = page_of(rep, page=4)
    assert [p.name for p in last.rows] == ["Shop 12"] and (last.count, last.count_exact) == (13, True)


def test_page_numbers_that_are_not_pages(rep, partners):
    assert page_of(rep, page="abc").number == 1
    assert page_of(rep, page="-3").number == 1
    assert page_of(rep, page="9" * 30).number == 1  # past the end, beyond the cap: the first page
    past = page_of(rep, page=3, cap=40, per_page=10)  # past the end under the cap: the last page
    assert past.number == 2 and [p.name for p in past.rows] == ["Shop 10", "Shop 11", "Shop 12"]


def test_unfiltered_list_of_every_partner_shows_the_planner_estimate(manager, partners):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE partners_partner")
    page = page_of(manager)
    assert page.count_estimated and page.count == Partner.objects.count() and page.num_pages is None
    filtered = page_of(manager, {"q": "shop"})
    assert filtered.count_capped and not filtered.count_estimated  # a filter: never an estimate


def test_the_list_labels_capped_and_estimated_counts(client, manager, rep):
    Partner.objects.bulk_create(
        Partner(code=f"B{n:05d}", name=f"Bulk {n:05d}", tier=factories.tier("Silver"), assigned_to=rep)
        for n in range(1_001)
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE partners_partner SET search_document = lower(name || ' ' || code)")
        cursor.execute("ANALYZE partners_partner")
    client.force_login(manager)
    assert "about 1,001 partners" in client.get("/partners/").content.decode()
    html = client.get("/partners/", {"q": "bulk"}).content.decode()
    assert "1,000+ partners" in html and "Page 1</span>" in html and 'rel="last"' not in html
