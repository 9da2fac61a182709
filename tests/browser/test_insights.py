"""A rep on a phone (390×844): Today shows "What to do next" with an insight card; Dismiss opens its reason (no JS: a
<details>), and dismissing with a reason takes the card away and brings the rep back to Today."""

import pytest

from insights.models import Insight
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_mobile import OVERFLOW_JS, SMALL_TARGETS_JS
from tests.insights.reacting import make_insight


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_today_card_dismissed_with_a_reason(page, live_server):
    rep = factories.rep_user(username="insight-rep")
    partner = factories.PartnerFactory(name="Lakshmi Electricals", assigned_to=rep, tier=factories.tier("Platinum"))
    insight = make_insight(partner, score=87, evidence={"tier": "Platinum", "every_days": 7, "days_overdue": 5})
    other = make_insight(partner, "no_next_engagement", score=40, evidence={"tier": "Platinum"})
    login(page, live_server, rep)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/today/")

    card = page.locator(f"#insight-{insight.pk}")
    assert card.is_visible()
    assert "Platinum partner: engage every 7 days; overdue by 5 days. Schedule a meeting now." in card.inner_text()
    assert "Lakshmi Electricals" in card.inner_text() and "87" in card.inner_text()
    layout = page.evaluate(OVERFLOW_JS)
    assert layout["scrollWidth"] <= layout["innerWidth"], layout
    assert page.evaluate(SMALL_TARGETS_JS, "#today-insights a, #today-insights button, #today-insights summary") == []

    card.locator(".insight-dismiss summary").click()
    assert card.locator("select[name=reason]").is_visible()
    assert page.evaluate(SMALL_TARGETS_JS, f"#insight-{insight.pk} select, #insight-{insight.pk} input") == []
    screenshot(page, "insight-dismiss-390")
    card.locator("select[name=reason]").select_option("Already in hand")
    card.locator("input[name=note]").fill("Met them at the trade fair")
    card.locator(".insight-dismiss button[type=submit]").click()
    page.wait_for_load_state("networkidle")

    assert page.url.endswith("/today/")
    assert page.locator(f"#insight-{insight.pk}").count() == 0
    assert page.locator(f"#insight-{other.pk}").is_visible()
    assert "dismissed" in page.locator(".messages").inner_text()
    insight.refresh_from_db()
    assert (insight.state, insight.dismiss_reason) == (Insight.State.DISMISSED,
                                                        "Already in hand — Met them at the trade fair")
    assert page.external_requests == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rule_rates_fit_a_phone(page, live_server):
    manager = factories.manager_user(username="insight-manager")
    partner = factories.PartnerFactory(name="Rates Traders", assigned_to=factories.rep_user(username="rates-rep"))
    for state in ("accepted", "dismissed", "open"):
        make_insight(partner, state=state)
    login(page, live_server, manager)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/today/")
    page.click("text=Insight rules")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/insights/rules/")
    row = page.locator("#rule-engagement_due")
    assert "33 %" in row.inner_text()
    layout = page.evaluate(OVERFLOW_JS)
    assert layout["scrollWidth"] <= layout["innerWidth"], layout
    assert page.evaluate(SMALL_TARGETS_JS, ".rule-rates a") == []
    screenshot(page, "insight-rules-390")
