"""Inactivity tagging (business.services.partners_tag_inactive) and its command."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from business.models import Achievement, InactivityRule, Parameter
from business.services import partners_tag_inactive
from partners.models import Partner, StatusChange
from partners.services import partner_set_status
from tests import factories

NOW = timezone.make_aware(timezone.datetime(2026, 5, 20, 12, 0))


def partner(days_since_engaged, tier="Gold", **kwargs):
    """A partner (governed by the rules unless said otherwise) last engaged ``days_since_engaged`` days before NOW."""
    p = factories.PartnerFactory(tier=factories.tier(tier), **kwargs)
    Partner.objects.filter(pk=p.pk).update(
        created_at=NOW - timedelta(days=400), last_engaged_at=NOW - timedelta(days=days_since_engaged)
    )
    p.refresh_from_db()
    return p


def status(p):
    p.refresh_from_db()
    return p.status, p.status_set_by, p.status_reason


@pytest.fixture
def rule(db):
    return InactivityRule.load()


def test_rule_row_exists_with_defaults(rule):
    assert rule.pk == 1
    assert rule.engagement_enabled and rule.grace_factor == Decimal("1.5")
    assert rule.business_parameter.code == Parameter.REVENUE


def test_engagement_rule_with_grace(rule):
    gold_ok = partner(20)  # Gold: every 14 days × 1.5 = 21
    gold_late = partner(45)
    silver_ok = partner(44, tier="Silver")  # Silver: every 30 × 1.5 = 45
    result = partners_tag_inactive(now=NOW)
    assert (result.deactivated, result.reactivated) == (1, 0)
    assert status(gold_late) == ("inactive", "rule", "not engaged for 45 days (Gold: every 14)")
    assert status(gold_ok)[0] == status(silver_ok)[0] == "active"
    change = StatusChange.objects.get(partner=gold_late)
    assert (change.from_status, change.to_status, change.set_by, change.changed_at) == ("active", "inactive", "rule", NOW)
    assert change.reason == "not engaged for 45 days (Gold: every 14)"


def test_never_engaged_counts_from_creation(rule):
    p = factories.PartnerFactory(tier=factories.tier("Platinum"))
    Partner.objects.filter(pk=p.pk).update(created_at=NOW - timedelta(days=30), last_engaged_at=None)
    partners_tag_inactive(now=NOW)
    assert status(p)[2] == "not engaged for 30 days (Platinum: every 7)"


def test_manual_status_is_never_changed(rule, manager):
    pinned_active = partner(100)
    partner_set_status(partner=pinned_active, status="inactive", by=manager, reason="on hold")
    partner_set_status(partner=pinned_active, status="active", by=manager, reason="keep active: big deal pending")
    pinned_inactive = partner(1)
    partner_set_status(partner=pinned_inactive, status="inactive", by=manager, reason="closed the business")
    partners_tag_inactive(now=NOW)
    assert status(pinned_active) == ("active", "manual", "keep active: big deal pending")
    assert status(pinned_inactive) == ("inactive", "manual", "closed the business")


def test_reactivation_when_the_partner_meets_the_rules_again(rule):
    p = partner(45)
    partners_tag_inactive(now=NOW)
    assert status(p)[0] == "inactive"
    Partner.objects.filter(pk=p.pk).update(last_engaged_at=NOW - timedelta(days=2))
    result = partners_tag_inactive(now=NOW + timedelta(minutes=1))
    assert (result.deactivated, result.reactivated) == (0, 1)
    assert status(p) == ("active", "rule", "meets the inactivity rules again")
    assert list(StatusChange.objects.filter(partner=p).order_by("changed_at").values_list("to_status", flat=True)) == [
        "inactive", "active"]
    # and nothing more happens on the next run
    assert (partners_tag_inactive(now=NOW + timedelta(minutes=2)).deactivated, StatusChange.objects.count()) == (0, 2)


def test_business_rule_on_last_full_period(rule):
    rule.business_enabled, rule.business_minimum = True, Decimal("5000")
    rule.save()
    revenue = factories.parameter(Parameter.REVENUE)
    low, high, nothing = partner(1), partner(1), partner(1)
    new = partner(1)
    Partner.objects.filter(pk=new.pk).update(created_at=NOW - timedelta(days=3))  # created after April ended
    april = date(2026, 4, 1)
    Achievement.objects.create(partner=low, parameter=revenue, period_start=april, value=Decimal("1200"))
    Achievement.objects.create(partner=high, parameter=revenue, period_start=april, value=Decimal("5000"))
    Achievement.objects.create(partner=high, parameter=revenue, period_start=date(2026, 5, 1), value=Decimal("0"))
    result = partners_tag_inactive(now=NOW)
    assert result.deactivated == 2
    assert status(low) == ("inactive", "rule", "Revenue 1,200 USD in 2026-04 below minimum 5,000")
    assert status(nothing)[2] == "Revenue 0 USD in 2026-04 below minimum 5,000"
    assert status(high)[0] == status(new)[0] == "active"
    # an upload brings April up to the minimum: active again
    Achievement.objects.filter(partner=low).update(value=Decimal("7000"), source=Achievement.Source.UPLOAD)
    assert partners_tag_inactive(now=NOW + timedelta(minutes=1)).reactivated == 1
    assert status(low)[0] == "active"


def test_disabled_rules_reactivate_partners_they_had_made_inactive(rule):
    p = partner(45)
    partners_tag_inactive(now=NOW)
    rule.engagement_enabled = False
    rule.save()
    assert partners_tag_inactive(now=NOW + timedelta(minutes=1)).reactivated == 1
    assert status(p)[0] == "active"


def test_dry_run_writes_nothing(rule, capsys):
    p = partner(45, name="Late Partner")
    before = Partner.objects.values_list("status", "status_reason", "updated_at").get(pk=p.pk)
    call_command("tag_inactive_partners", "--dry-run")
    out = capsys.readouterr().out
    assert "Late Partner: → inactive (not engaged for" in out
    assert "DRY RUN, nothing written: would change: 1 partners inactive, 0 partners active again" in out
    assert Partner.objects.values_list("status", "status_reason", "updated_at").get(pk=p.pk) == before
    assert not StatusChange.objects.exists()
    call_command("tag_inactive_partners")
    assert status(p)[0] == "inactive"
    assert "changed: 1 partners inactive" in capsys.readouterr().out


def test_task(rule):
    from business.tasks import tag_inactive_partners

    partner(400)
    assert tag_inactive_partners.apply().get() == {"deactivated": 1, "reactivated": 0}


def test_tier_names_are_data_not_sql(rule):
    from partners.models import Tier

    p = partner(45)
    Tier.objects.filter(name="Gold").update(name="Gold'); DROP TABLE partners_partner; --")
    partners_tag_inactive(now=NOW)
    assert status(p)[2] == "not engaged for 45 days (Gold'); DROP TABLE partners_partner; --: every 14)"
