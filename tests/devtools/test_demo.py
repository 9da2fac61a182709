from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from activities.models import Activity
from business.models import Achievement, Target
from devtools import demo
from leads.models import Customer, Lead
from partners.models import ContactPoint, Location, Partner
from partners.selectors import partner_visible_to

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def fingerprint():
    return {
        "partners": list(Partner.objects.order_by("code").values_list("code", "name", "kind", "tier__name",
                                                                      "assigned_to__username", "last_engaged_at")),
        "contacts": list(ContactPoint.objects.order_by("partner__code", "kind", "value").values_list(
            "partner__code", "kind", "value", "is_primary")),
        "activities": list(Activity.objects.order_by("partner__code", "start_at", "kind").values_list(
            "partner__code", "kind", "mode", "status", "start_at")),
        "leads": list(Lead.objects.order_by("partner__code", "created_at").values_list(
            "partner__code", "stage", "expected_value", "value", "created_at")),
        "targets": Target.objects.count(),
        "achievements": sorted(Achievement.objects.values_list("partner__code", "parameter__code", "period_start",
                                                               "value")),
    }


def test_seed_demo_is_deterministic_and_realistic():
    demo.demo_seed(partners=25, seed=7, today=TODAY)
    first = fingerprint()
    demo.demo_clear()
    demo.demo_seed(partners=25, seed=7, today=TODAY)
    assert fingerprint() == first

    assert Partner.objects.count() == 25
    assert Location.objects.filter(is_primary=True).count() == 25
    assert Activity.objects.filter(status=Activity.Status.DONE).count() > 100
    assert Activity.objects.filter(status=Activity.Status.PLANNED).exists()
    assert Customer.objects.count() == Lead.objects.filter(stage=Lead.Stage.WON).count() > 0
    assert Achievement.objects.filter(parameter__code="leads_generated").exists()
    # Denormalised engagement dates agree with the activities.
    partner = Partner.objects.filter(last_engaged_at__isnull=False).first()
    latest = partner.activities.filter(status="done").exclude(mode="reminder").latest("start_at").start_at
    assert partner.last_engaged_at == latest
    # Every rep sees only their own partners; the manager sees all.
    User = get_user_model()
    rep = User.objects.get(username="rep1")
    assert rep.check_password(demo.DEMO_PASSWORD)
    assert set(partner_visible_to(rep)) == set(Partner.objects.filter(assigned_to=rep))
    assert partner_visible_to(User.objects.get(username="manager")).count() == 25


def test_another_seed_gives_other_data():
    demo.demo_seed(partners=10, seed=1, today=TODAY)
    one = fingerprint()["partners"]
    demo.demo_clear()
    demo.demo_seed(partners=10, seed=2, today=TODAY)
    assert fingerprint()["partners"] != one


def test_command_refuses_to_mix_with_existing_data_and_prints_logins(capsys):
    call_command("seed_demo", "--partners", "5")
    out = capsys.readouterr().out
    assert "Loaded 5 partners" in out and demo.DEMO_PASSWORD in out
    with pytest.raises(CommandError):
        call_command("seed_demo", "--partners", "5")
    call_command("seed_demo", "--if-empty")
    assert "nothing to do" in capsys.readouterr().out
    call_command("seed_demo", "--partners", "3", "--replace")
    assert Partner.objects.count() == 3
