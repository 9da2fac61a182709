"""library.selectors: one rule decides what a partner sees (published, and everyone / its tier / its kind / itself),
and the shelves, the newest, the tag chips and full-text search all go through it."""

import pytest

from library import selectors, services
from library.models import Resource, Tag
from partners.models import Partner
from tests import factories
from tests.library.conftest import make_resource

pytestmark = pytest.mark.django_db


def visible(partner):
    return set(selectors.resources_visible_to(partner=partner).values_list("title", flat=True))


def test_the_audience_rule(shelf, acme, globex):
    sales = shelf[0]
    individual = factories.PartnerFactory(tier=factories.tier("Silver"), kind=Partner.Kind.INDIVIDUAL)
    make_resource(sales, title="Everyone")
    make_resource(sales, title="Gold only", to_all=False, tiers=[factories.tier("Gold")])
    make_resource(sales, title="Individuals", to_all=False, kinds=[Partner.Kind.INDIVIDUAL])
    make_resource(sales, title="Globex by name", to_all=False, partners=[globex])
    make_resource(sales, title="Draft for everyone", publish=False)
    make_resource(sales, title="Platinum or acme", to_all=False, tiers=[factories.tier("Platinum")], partners=[acme])
    assert visible(acme) == {"Everyone", "Gold only", "Platinum or acme"}
    assert visible(globex) == {"Everyone", "Globex by name"}
    assert visible(individual) == {"Everyone", "Individuals"}
    no_tier = factories.PartnerFactory(tier=None)
    assert visible(no_tier) == {"Everyone"}


def test_to_all_ignores_the_other_choices(shelf, globex):
    resource = make_resource(shelf[0], title="All", to_all=True, tiers=[factories.tier("Gold")])
    assert not resource.tiers.exists()
    assert visible(globex) == {"All"}


def test_shelves_show_only_categories_holding_something_visible_with_counts(shelf, acme, globex):
    sales, playbooks = shelf
    empty = services.category_save(category=None, name="Empty")
    hidden = services.category_save(category=None, name="Globex only")
    make_resource(sales, title="a")
    make_resource(playbooks, title="b")
    make_resource(playbooks, title="c", to_all=False, partners=[globex])
    make_resource(hidden, title="d", to_all=False, partners=[globex])
    make_resource(empty, title="draft", publish=False)
    found = selectors.shelves(partner=acme)
    assert [(s.name, s.count, [(c.name, c.count) for c in s.children]) for s in found] == [
        ("Sales", 2, [("Playbooks", 1)])]
    assert [(s.name, s.count) for s in selectors.shelves(partner=globex)] == [("Globex only", 1), ("Sales", 3)]


def test_search_is_ranked_and_stays_within_the_audience(shelf, acme, globex):
    sales = shelf[0]
    make_resource(sales, title="Deal registration guide", description="How to register a deal")
    make_resource(sales, title="Marketing funds", description="Co-marketing", body="Your *deal* needs its registrations first.")
    make_resource(sales, title="Onboarding checklist", description="registration of new partners")
    make_resource(sales, title="Deal registration for Globex", to_all=False, partners=[globex])
    make_resource(sales, title="Deal registration draft", publish=False)
    page = selectors.resource_search(partner=acme, q="deal registration")
    titles = [r.title for r in page.rows]
    assert titles[0] == "Deal registration guide"  # title (A) beats article text (C)
    assert "Deal registration for Globex" not in titles and "Deal registration draft" not in titles
    assert titles[-1] == "Marketing funds"  # "deal" and "registrations" (stemmed) in the article: ranked last
    assert [r.title for r in selectors.resource_search(partner=acme, q='"marketing funds"').rows] == ["Marketing funds"]
    assert "Marketing funds" not in [r.title for r in selectors.resource_search(partner=acme, q="deal -marketing").rows]
    assert selectors.resource_search(partner=acme, q="zzzz").rows == []
    assert selectors.resource_search(partner=acme, q="the of and").rows == []  # stop words only: nothing, no error
    # nonsense is harmless
    assert selectors.resource_search(partner=acme, q="' OR 1=1 -- & | ! :*").rows == []


def test_tags_filter_and_chips(shelf, acme, globex):
    sales = shelf[0]
    step = services.tag_save(tag=None, kind=Tag.Kind.PROGRAM_STEP, name="Onboarding")
    retail = services.tag_save(tag=None, kind=Tag.Kind.INDUSTRY, name="Retail")
    secret = services.tag_save(tag=None, kind=Tag.Kind.INDUSTRY, name="Defence")
    services.tag_save(tag=None, kind=Tag.Kind.DOCUMENT_TYPE, name="Unused")
    make_resource(sales, title="both", tags=[step, retail])
    make_resource(sales, title="step", tags=[step])
    make_resource(sales, title="globex", tags=[secret], to_all=False, partners=[globex])
    assert [t.name for t in selectors.tags_for(partner=acme)] == ["Retail", "Onboarding"]  # by kind, then name
    assert {r.title for r in selectors.resource_search(partner=acme, tags=[step.pk]).rows} == {"both", "step"}
    assert {r.title for r in selectors.resource_search(partner=acme, tags=[step.pk, retail.pk]).rows} == {"both"}
    assert selectors.resource_search(partner=acme, tags=[secret.pk]).rows == []
    assert selectors.tag_ids(["3", "x", "3", "-1", "99999999999", "4"]) == [3, 4]


def test_paging_without_a_count(shelf, acme):
    for n in range(5):
        make_resource(shelf[0], title=f"r{n}")
    first = selectors.resource_search(partner=acme, per_page=2)
    assert len(first.rows) == 2 and first.has_next and not first.has_previous
    last = selectors.resource_search(partner=acme, per_page=2, page=3)
    assert len(last.rows) == 1 and not last.has_next
    assert selectors.resource_search(partner=acme, page="nonsense").number == 1


def test_staff_see_everything(shelf, globex):
    make_resource(shelf[0], title="draft", publish=False)
    make_resource(shelf[1], title="globex", to_all=False, partners=[globex], kind=Resource.Kind.LINK)
    assert selectors.resources_for_staff().count() == 2
    assert [r.title for r in selectors.resources_for_staff(state="draft")] == ["draft"]
    assert [r.title for r in selectors.resources_for_staff(category=shelf[0].pk, kind="link")] == ["globex"]
