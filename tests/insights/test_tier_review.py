"""Rule 7 (insights.tier_review): tier bands (validation, admin, the card, a new partner's proposed targets), the
set-based evaluation (N full periods in a row outside the band, not N − 1), and a manager's accept / reject."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from business import periods
from business.models import Achievement, Parameter, Target
from insights.models import Insight, Rule, TierBand
from insights.sentences import insight_sentence
from insights.tier_review import (
    evaluate_tier_review,
    tier_band_save,
    tier_review_sentence,
    tier_suggestion_accept,
    tier_suggestion_reject,
)
from partners.models import Partner
from tests import factories

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 6, 15, 12, 0))  # full months judged (3 periods): March, April, May
MONTHS = [date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)]
LONG_AGO = timezone.make_aware(datetime(2025, 1, 1))


@pytest.fixture
def band(db):
    # Gold revenue: 50,000–100,000 a month; the rule's default threshold 25 %: promote above 125,000, demote below 37,500
    return tier_band_save(band=None, tier=factories.tier("Gold"), parameter=factories.parameter("revenue"),
                          low=Decimal("50000"), high=Decimal("100000"))


def gold_partner(values, *, tier="Gold", created=LONG_AGO, **kwargs):
    """A partner whose revenue in March, April, May is ``values`` (None: no row, i.e. 0 for computed revenue)."""
    partner = factories.PartnerFactory(tier=factories.tier(tier), **kwargs)
    Partner.objects.filter(pk=partner.pk).update(created_at=created)
    for start, value in zip(MONTHS, values, strict=True):
        if value is not None:
            Achievement.objects.create(partner=partner, parameter=factories.parameter("revenue"), period_start=start,
                                       value=Decimal(value))
    return partner


def tier_insights():
    return Insight.objects.filter(rule__code=Rule.Code.TIER_REVIEW)


# --- Bands ------------------------------------------------------------------------------------------------------------


def test_band_validation_names_the_field(band):
    revenue, silver = factories.parameter("revenue"), factories.tier("Silver")
    with pytest.raises(ValidationError) as error:
        tier_band_save(band=None, tier=silver, parameter=revenue, low=Decimal("10"), high=Decimal("5"))
    assert "must not be below the low end" in str(error.value.message_dict["high"])
    with pytest.raises(ValidationError) as error:
        tier_band_save(band=None, tier=silver, parameter=revenue, low=Decimal("-1"), high=Decimal("5"))
    assert "low" in error.value.message_dict
    with pytest.raises(ValidationError) as error:  # a second Gold revenue band
        tier_band_save(band=None, tier=factories.tier("Gold"), parameter=revenue, low=Decimal("1"), high=Decimal("2"))
    assert "already exists" in str(error.value)
    assert TierBand.objects.count() == 1
    assert tier_band_save(band=band, tier=band.tier, parameter=revenue, low=Decimal("60000"),
                          high=Decimal("60000")).low == 60000  # low = high is fine; editing itself is no duplicate


def test_admin_rejects_a_bad_band_with_a_message(admin_client):
    url = reverse("admin:insights_tierband_add")
    data = {"tier": factories.tier("Gold").pk, "parameter": factories.parameter("revenue").pk, "low": "100",
            "high": "50"}
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "must not be below the low end" in response.content.decode()
    response = admin_client.post(url, {**data, "low": "-5"})
    assert "greater than or equal to 0" in response.content.decode()
    assert not TierBand.objects.exists()
    assert admin_client.post(url, {**data, "low": "10"}).status_code == 302
    assert TierBand.objects.get().high == 50
    assert admin_client.get(reverse("admin:insights_tierband_changelist")).status_code == 200


def test_the_card_shows_the_tiers_band(manager_client, band):
    partner = factories.PartnerFactory(tier=factories.tier("Gold"))
    month = periods.period_start(periods.org_today(), "monthly")
    Target.objects.create(partner=partner, parameter=band.parameter, period_start=month, value=Decimal("60000"))
    html = manager_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    card = html[html.index('id="business-card"'):]
    assert "Tier band (Gold): USD 50,000–100,000" in card
    silver = factories.PartnerFactory(tier=factories.tier("Silver"))  # no band for Silver: nothing shown
    Target.objects.create(partner=silver, parameter=band.parameter, period_start=month, value=Decimal("1"))
    assert "Tier band" not in manager_client.get(reverse("partners:detail", args=[silver.pk])).content.decode()


def test_a_new_partners_form_proposes_the_bands_low_end(rep_client, band):
    gold = factories.tier("Gold")
    month = periods.period_start(periods.org_today(), "monthly")
    field = f"targets-revenue__{month.isoformat()}"
    html = rep_client.get(reverse("partners:create"), {"tier": gold.pk}).content.decode()
    assert f'name="{field}"' in html and 'value="50000"' in html  # shown in the box, editable
    assert 'id="tier-band-proposals"' in html and "tier_band_targets.js" in html
    plain = rep_client.get(reverse("partners:create")).content.decode()  # no tier picked yet: boxes empty
    assert 'value="50000"' not in plain and 'id="tier-band-proposals"' in plain
    # Only what the form sends is saved: the proposal as shown, or the rep's own figure.
    response = rep_client.post(reverse("partners:create"), {
        "name": "Band Traders", "code": "BND-1", "kind": "organisation", "tier": gold.pk, "status": "active",
        "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0",
        "locations-TOTAL_FORMS": "0", "locations-INITIAL_FORMS": "0",
        field: "50000",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    partner = Partner.objects.get(code="BND-1")
    assert Target.objects.get(partner=partner, period_start=month).value == 50000
    # the edit page proposes nothing
    assert "tier-band-proposals" not in rep_client.get(reverse("partners:edit", args=[partner.pk])).content.decode()


# --- Evaluation -------------------------------------------------------------------------------------------------------


def test_fires_after_n_periods_in_a_row_and_not_after_n_minus_one(band):
    above = gold_partner(["130000", "126000", "200000"])
    two_only = gold_partner(["120000", "130000", "130000"])  # March within 125,000: only 2 in a row
    below = gold_partner(["30000", None, "10"])  # April: no row, computed revenue, so 0
    inside = gold_partner(["60000", "70000", "80000"])
    seen = evaluate_tier_review(now=NOW)
    platinum, silver = factories.tier("Platinum"), factories.tier("Silver")
    assert seen == {f"tier_review:{above.pk}:revenue:promote:{platinum.pk}",
                    f"tier_review:{below.pk}:revenue:demote:{silver.pk}"}
    promote = tier_insights().get(partner=above)
    assert promote.evidence == {
        "parameter": "revenue", "parameter_name": "Revenue", "unit": "USD",
        "periods": ["2026-03", "2026-04", "2026-05"], "values": [130000, 126000, 200000],
        "low": 50000, "high": 100000, "threshold_percent": 25, "direction": "promote",
        "from_tier": "Gold", "from_tier_id": factories.tier("Gold").pk, "to_tier": "Platinum",
        "to_tier_id": platinum.pk,
    }
    assert (promote.state, promote.subject, promote.period_start) == (Insight.State.OPEN, "revenue", MONTHS[-1])
    # score: weight 30 + Gold 20 + (126,000 − 100,000) / 100,000 = 26 % ÷ 2 = 13
    assert promote.score == 30 + 20 + 13
    assert tier_insights().get(partner=below).evidence["values"] == [30000, 0, 10]
    assert not tier_insights().filter(partner__in=[two_only, inside]).exists()


def test_rule_settings_n_and_threshold(band):
    rule = Rule.objects.get(code=Rule.Code.TIER_REVIEW)
    two_only = gold_partner(["120000", "130000", "130000"])
    rule.periods = 2
    rule.save()
    assert not tier_insights().exists()
    evaluate_tier_review(now=NOW)
    assert tier_insights().get().partner_id == two_only.pk
    rule.periods, rule.threshold_percent = 3, Decimal("10")  # promote above 110,000: all three months count now
    rule.save()
    assert len(evaluate_tier_review(now=NOW)) == 1


def test_evaluation_is_idempotent_and_refreshes(band):
    partner = gold_partner(["130000", "130000", "130000"])
    first = evaluate_tier_review(now=NOW)
    assert evaluate_tier_review(now=NOW + timedelta(hours=1)) == first
    insight = tier_insights().get()
    assert insight.last_seen_at == NOW + timedelta(hours=1) and tier_insights().count() == 1
    Achievement.objects.filter(partner=partner, period_start=MONTHS[-1]).update(value=Decimal("150000"))
    evaluate_tier_review(now=NOW)
    insight.refresh_from_db()
    assert insight.evidence["values"][-1] == 150000


def test_who_is_not_judged(band):
    gold_partner(["130000"] * 3, tier="Platinum")  # no band for Platinum (and no tier above it)
    TierBand.objects.create(tier=factories.tier("Platinum"), parameter=band.parameter, low=1, high=2)
    gold_partner(["130000"] * 3, created=timezone.make_aware(datetime(2026, 3, 10)))  # created during March
    gold_partner(["130000"] * 3, status=Partner.Status.INACTIVE)
    assert evaluate_tier_review(now=NOW) == set()  # the Platinum one is above its band, but there is no higher tier


def test_uploaded_parameter_with_a_gap_is_not_judged(band):
    Parameter.objects.filter(code="revenue").update(source=Parameter.Source.UPLOADED)
    gold_partner(["130000", None, "130000"])
    assert evaluate_tier_review(now=NOW) == set()


def test_disabled_rule_deactivated_parameter_other_tiers_and_one_partner(band):
    one = gold_partner(["130000"] * 3)
    other = gold_partner(["130000"] * 3)
    rule = Rule.objects.get(code=Rule.Code.TIER_REVIEW)
    assert len(evaluate_tier_review(now=NOW, partner_ids=[one.pk])) == 1
    assert set(tier_insights().values_list("partner_id", flat=True)) == {one.pk}
    assert evaluate_tier_review(now=NOW, partner_ids=[]) == set()
    rule.tiers.set([factories.tier("Silver")])
    assert evaluate_tier_review(now=NOW) == set()
    rule.tiers.clear()
    rule.parameter = band.parameter
    rule.save()
    assert len(evaluate_tier_review(now=NOW)) == 2
    Parameter.objects.filter(pk=band.parameter.pk).update(is_active=False)
    assert evaluate_tier_review(now=NOW) == set()  # no error
    Parameter.objects.filter(pk=band.parameter.pk).update(is_active=True)
    rule.enabled = False
    rule.save()
    assert evaluate_tier_review(now=NOW) == set()
    assert other.pk


def test_the_sentence_explains_itself(band):
    gold_partner(["130000", "126000", "200000"])
    evaluate_tier_review(now=NOW)
    insight = tier_insights().select_related("rule").get()
    text = tier_review_sentence(insight.evidence)
    assert text == ("Revenue above the Gold band (USD 50,000–100,000) by more than 25% for 3 periods in a row "
                    "(Mar 2026: USD 130,000 · Apr 2026: USD 126,000 · May 2026: USD 200,000). "
                    "Suggest promoting to Platinum.")
    assert insight_sentence(insight).startswith(text)


# --- A manager's decision ---------------------------------------------------------------------------------------------


@pytest.fixture
def suggestion(band):
    partner = gold_partner(["130000"] * 3)
    evaluate_tier_review(now=NOW)
    return tier_insights().select_related("rule", "partner").get(partner=partner)


def test_accept_changes_the_tier_and_marks_it_accepted(suggestion, manager):
    partner = tier_suggestion_accept(insight=suggestion, by=manager)
    assert partner.tier == factories.tier("Platinum")
    partner.refresh_from_db()
    suggestion.refresh_from_db()
    assert partner.tier.name == "Platinum"
    # the new tier's frequency: due 7 days after the last engagement (or creation)
    assert partner.engagement_due_at == partner.created_at + timedelta(days=7)
    assert (suggestion.state, suggestion.reacted_by) == (Insight.State.ACCEPTED, manager)
    with pytest.raises(ValidationError):  # the double click
        tier_suggestion_accept(insight=suggestion, by=manager)
    # the accepted insight stays accepted when the evaluation runs again (it is the record of the change)
    evaluate_tier_review(now=NOW)
    suggestion.refresh_from_db()
    assert suggestion.state == Insight.State.ACCEPTED


def test_accept_refuses_when_the_tier_changed_meanwhile(suggestion, manager):
    Partner.objects.filter(pk=suggestion.partner_id).update(tier=factories.tier("Silver"))
    with pytest.raises(ValidationError, match="tier changed"):
        tier_suggestion_accept(insight=suggestion, by=manager)
    suggestion.refresh_from_db()
    assert suggestion.state == Insight.State.OPEN  # rolled back: nothing half-written


def test_reject_suppresses(suggestion, manager):
    assert tier_suggestion_reject(insight=suggestion, by=manager, reason="Seasonal peak") is True
    suggestion.refresh_from_db()
    assert suggestion.state == Insight.State.DISMISSED and suggestion.dismiss_reason == "Seasonal peak"
    assert suggestion.suppressed_until > timezone.now() + timedelta(days=89)  # the rule's 90 days
    evaluate_tier_review(now=NOW + timedelta(days=1))  # found again: stays dismissed while suppressed
    suggestion.refresh_from_db()
    assert suggestion.state == Insight.State.DISMISSED
    assert Partner.objects.get(pk=suggestion.partner_id).tier.name == "Gold"
    with pytest.raises(ValidationError):  # a reason is required
        tier_suggestion_reject(insight=suggestion, by=manager, reason=" ")


def test_views_managers_only(suggestion, client, manager, rep):
    accept = reverse("insights:tier_accept", args=[suggestion.pk])
    reject = reverse("insights:tier_reject", args=[suggestion.pk])
    Partner.objects.filter(pk=suggestion.partner_id).update(assigned_to=rep)  # even the rep's own partner
    client.force_login(rep)
    assert client.post(accept).status_code == 404
    assert client.post(reject, {"reason": "no"}).status_code == 404
    client.force_login(manager)
    assert client.get(accept).status_code == 405
    other = Insight.objects.create(rule=Rule.objects.get(code=Rule.Code.ENGAGEMENT_DUE), partner=suggestion.partner,
                                   fingerprint="x:1", last_seen_at=timezone.now())
    assert client.post(reverse("insights:tier_accept", args=[other.pk])).status_code == 404
    assert client.post(reverse("insights:tier_accept", args=[999999])).status_code == 404
    response = client.post(reject, {"reason": ""})  # no reason: a message, nothing changed
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.state == Insight.State.OPEN
    response = client.post(accept, {"next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("partners:detail", args=[suggestion.partner_id])
    assert Partner.objects.get(pk=suggestion.partner_id).tier.name == "Platinum"


def test_reject_view(suggestion, manager_client):
    response = manager_client.post(reverse("insights:tier_reject", args=[suggestion.pk]), {"reason": "Seasonal"})
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.state == Insight.State.DISMISSED


def test_partner_page_shows_the_decision_buttons_to_managers(suggestion, manager_client):
    html = manager_client.get(reverse("partners:detail", args=[suggestion.partner_id])).content.decode()
    assert reverse("insights:tier_accept", args=[suggestion.pk]) in html
    assert reverse("insights:tier_reject", args=[suggestion.pk]) in html
    assert "Promote to Platinum" in html and "Suggest promoting to Platinum" in html


def test_the_decision_forms_carry_the_csrf_token(suggestion, manager_client):
    html = manager_client.get(reverse("partners:detail", args=[suggestion.partner_id])).content.decode()
    for name in ("tier_accept", "tier_reject"):
        form = html[html.index(reverse(f"insights:{name}", args=[suggestion.pk])):]
        form = form[:form.index("</form>")]
        assert 'name="csrfmiddlewaretoken"' in form
