"""A new partner's targets proposed from its tier's band (rule 7; static/js/tier_band_targets.js): picking a tier fills
the empty target boxes with the band's low end, a box the rep typed into is left alone, and changing the tier again
replaces (or empties) only what the script filled."""

from decimal import Decimal

import pytest

from business import periods
from insights.tier_review import tier_band_save
from tests import factories
from tests.browser.conftest import login


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_picking_a_tier_proposes_its_band_targets(page, live_server):
    rep = factories.rep_user(username="band-rep")
    revenue, leads = factories.parameter("revenue"), factories.parameter("leads_generated")
    tier_band_save(band=None, tier=factories.tier("Gold"), parameter=revenue, low=Decimal("50000"),
                   high=Decimal("100000"))
    tier_band_save(band=None, tier=factories.tier("Gold"), parameter=leads, low=Decimal("8"), high=Decimal("20"))
    tier_band_save(band=None, tier=factories.tier("Silver"), parameter=revenue, low=Decimal("10000"),
                   high=Decimal("40000"))
    month = periods.period_start(periods.org_today(), "monthly").isoformat()
    revenue_box, leads_box = f"input[name='targets-revenue__{month}']", f"input[name='targets-leads_generated__{month}']"

    login(page, live_server, rep)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/partners/new/")
    assert page.input_value(revenue_box) == "" and page.input_value(leads_box) == ""
    page.fill(leads_box, "12")  # the rep's own figure
    page.select_option("#id_tier", label="Gold")
    assert page.input_value(revenue_box) == "50000"
    assert page.input_value(leads_box) == "12"  # never overwritten
    page.select_option("#id_tier", label="Silver")
    assert page.input_value(revenue_box) == "10000"
    page.select_option("#id_tier", label="Platinum")  # no band: the proposal goes, nothing else
    assert page.input_value(revenue_box) == "" and page.input_value(leads_box) == "12"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
