from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q

from activities.models import Activity
from activities.services import partners_engagement_refresh_all
from business.models import Achievement, Target
from devtools import demo
from leads.models import Customer, Lead, LeadStageChange
from partners.models import ContactPoint, Location, Partner
from partners.selectors import partner_visible_to

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)
MIDNIGHT = datetime(2026, 11, 23, tzinfo=UTC)  # the seed's "now": times are relative to it


def fingerprint():
    return {
        "partners": list(Partner.objects.order_by("code").values_list(
            "code", "name", "kind", "tier__name", "assigned_to__username", "created_at", "last_engaged_at",
            "next_engagement_at", "engagement_due_at", "business_potential", "search_document")),
        "contacts": list(ContactPoint.objects.order_by("partner__code", "kind", "value").values_list(
            "partner__code", "kind", "value", "label", "is_primary")),
        "locations": list(Location.objects.order_by("partner__code", "-is_primary").values_list(
            "partner__code", "label", "address", "latitude", "longitude", "is_primary")),
        "activities": list(Activity.objects.order_by("partner__code", "start_at", "kind", "status").values_list(
            "partner__code", "kind", "mode", "status", "start_at", "duration_minutes", "location__is_primary",
            "outcome")),
        "leads": list(Lead.objects.order_by("partner__code", "created_at").values_list(
            "partner__code", "name", "stage", "expected_value", "value", "created_at", "converted_at", "lost_at")),
        "stage_changes": sorted(LeadStageChange.objects.values_list("lead__created_at", "from_stage", "to_stage",
                                                                    "changed_at")),
        "customers": sorted(Customer.objects.values_list("lead__created_at", "name", "created_at")),
        "targets": sorted(Target.objects.values_list("partner__code", "parameter__code", "period_start", "value")),
        "achievements": sorted(Achievement.objects.values_list("partner__code", "parameter__code", "period_start",
                                                               "value", "source")),
    }


def engagement_columns():
    return list(Partner.objects.order_by("id").values_list(
        "id", "last_engaged_at", "next_engagement_at", "engagement_due_at"))


def test_seed_demo_is_deterministic():
    summary = demo.demo_seed(partners=25, seed=7, today=TODAY)
    first = fingerprint()
    demo.demo_clear()
    assert demo.demo_seed(partners=25, seed=7, today=TODAY) == summary
    assert fingerprint() == first


def test_another_seed_gives_other_data():
    demo.demo_seed(partners=10, seed=1, today=TODAY)
    one = fingerprint()
    demo.demo_clear()
    demo.demo_seed(partners=10, seed=2, today=TODAY)
    other = fingerprint()
    for key in ("partners", "contacts", "activities", "leads"):
        assert other[key] != one[key], key


def test_seed_demo_is_realistic():
    summary = demo.demo_seed(partners=300, seed=42, today=TODAY)

    # The summary counts what is in the tables.
    assert (summary.partners, summary.contacts, summary.locations, summary.activities, summary.leads,
            summary.stage_changes, summary.customers, summary.targets) == (
        300, ContactPoint.objects.count(), Location.objects.count(), Activity.objects.count(), Lead.objects.count(),
        LeadStageChange.objects.count(), Customer.objects.count(), Target.objects.count())
    assert summary.achievements == Achievement.objects.count()
    assert summary.reps == [f"rep{n}" for n in range(1, 8)]  # 300 // 40

    # Partners: codes in order, the tier mix (10/30/60), ~20% individuals.
    assert list(Partner.objects.order_by("id").values_list("code", flat=True)[:2]) == ["DEMO-000001", "DEMO-000002"]
    tiers = dict(Partner.objects.values_list("tier__name").annotate(n=Count("id")))
    assert 15 <= tiers["Platinum"] <= 45 and 65 <= tiers["Gold"] <= 115 and 150 <= tiers["Silver"] <= 210
    assert 35 <= Partner.objects.filter(kind=Partner.Kind.INDIVIDUAL).count() <= 85
    assert not Partner.objects.filter(search_document="").exists()  # filled after the contact points

    # Contacts: 3–5 per partner with a primary mobile, email and WhatsApp; some office phones and accounts emails.
    per_partner = Partner.objects.annotate(n=Count("contact_points")).values_list("n", flat=True)
    assert set(per_partner) <= {3, 4, 5} and len(set(per_partner)) > 1
    for kind in ("mobile", "email", "whatsapp"):
        assert ContactPoint.objects.filter(kind=kind, is_primary=True).count() == 300
    assert ContactPoint.objects.filter(kind="phone", label="Office").exists()
    assert ContactPoint.objects.filter(kind="email", is_primary=False, label="Accounts").exists()
    # Locations: one primary each, some branches; activities at a location use the primary one.
    assert Location.objects.filter(is_primary=True).count() == 300 < Location.objects.count() < 450
    assert not Activity.objects.filter(location__isnull=False, location__is_primary=False).exists()
    assert not Activity.objects.exclude(location__isnull=True).exclude(location__partner=F("partner")).exists()

    # Activities: two years of done ones, a few cancelled meetings, planned calls/meetings ahead, reminders.
    done = Activity.objects.filter(status=Activity.Status.DONE)
    assert done.count() > 300 * 10
    assert done.filter(start_at__lt=MIDNIGHT - timedelta(days=700)).exists()
    assert not done.filter(Q(start_at__gte=MIDNIGHT) | Q(start_at__lt=MIDNIGHT - timedelta(days=730))).exists()
    assert not done.exclude(mode__in=Activity.ENGAGEMENT_MODES).exists()
    assert Activity.objects.filter(status=Activity.Status.CANCELLED, kind="meeting").exists()
    planned = Activity.objects.filter(status=Activity.Status.PLANNED)
    assert planned.filter(mode=Activity.Mode.SCHEDULED, kind__in=("call", "meeting")).exists()
    assert planned.filter(mode=Activity.Mode.REMINDER, kind="task").exists()
    assert not planned.filter(start_at__lt=MIDNIGHT).exists()
    # ~15% neglected partners: last engagement 45–120 days ago, nothing planned.
    neglected = Partner.objects.filter(last_engaged_at__lt=MIDNIGHT - timedelta(days=44))
    assert 20 <= neglected.count() <= 75
    assert not neglected.filter(last_engaged_at__lt=MIDNIGHT - timedelta(days=120)).exists()
    assert not neglected.filter(next_engagement_at__isnull=False).exists()

    # Leads: a stage-change row each (+ one past "new"), a customer per won lead, old leads mostly closed.
    assert 300 * 7 <= Lead.objects.count() <= 300 * 13
    assert LeadStageChange.objects.count() == Lead.objects.count() + Lead.objects.exclude(stage="new").count()
    assert Customer.objects.count() == Lead.objects.filter(stage=Lead.Stage.WON).count() > 0
    assert not Customer.objects.exclude(created_at=F("lead__converted_at")).exists()
    old = Lead.objects.filter(created_at__lt=MIDNIGHT - timedelta(days=91))
    assert old.filter(stage__in=("won", "lost")).count() > 0.6 * old.count()
    young = Lead.objects.filter(created_at__gte=MIDNIGHT - timedelta(days=90))
    assert young.filter(stage__in=Lead.OPEN_STAGES).count() > 0.6 * young.count()

    # Targets: 13 months of leads and revenue, 4 quarters of trainings; 3 uploaded trainings achievements each.
    assert Target.objects.count() == 300 * 30
    assert Target.objects.filter(parameter__code="revenue").values("period_start").distinct().count() == 13
    assert Achievement.objects.filter(parameter__code=demo.TRAININGS, source="upload").count() == 300 * 3
    assert Achievement.objects.filter(parameter__code="leads_generated", source="computed").exists()

    # Every rep sees only their own partners; the manager sees all.
    User = get_user_model()
    rep = User.objects.get(username="rep1")
    assert rep.check_password(demo.DEMO_PASSWORD)
    assert set(partner_visible_to(rep)) == set(Partner.objects.filter(assigned_to=rep))
    assert partner_visible_to(User.objects.get(username="manager")).count() == 300


def test_engagement_dates_are_what_activities_compute():
    demo.demo_seed(partners=200, seed=3, today=TODAY)
    seeded = engagement_columns()
    assert all(last is not None and due is not None for _, last, _, due in seeded)
    assert any(upcoming is not None for _, _, upcoming, _ in seeded)
    partners_engagement_refresh_all()
    assert engagement_columns() == seeded


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



def test_the_command_leaves_what_the_nightly_jobs_would_have_made(capsys):
    """A new user of `make run` finds suggestions on Today and figures on /team/ without waiting for the night."""
    from insights.models import Insight, TeamAttainment

    call_command("seed_demo", "--partners", "40")
    out = capsys.readouterr().out
    assert "insights:" in out and "team dashboard figures" in out
    assert Insight.objects.filter(state=Insight.State.OPEN).exists()
    assert TeamAttainment.objects.exists()
