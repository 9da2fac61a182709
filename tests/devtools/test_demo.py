from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q

from activities.models import Activity
from activities.services import customers_engagement_refresh_all, partners_engagement_refresh_all
from business.models import Achievement, Target
from devtools import demo
from leads.customer_selectors import customers_visible_to
from leads.models import Customer, CustomerContact, CustomerLocation, CustomerSegment, Lead, LeadStageChange
from partners.models import ContactPoint, Location, Partner
from partners.selectors import partner_visible_to
from service.breach import tickets_notify_breaches
from service.models import ServiceLevel, Ticket, TicketComment, TicketStatusChange

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
        "activities": sorted(Activity.objects.values_list(
            "partner__code", "customer__created_at", "kind", "mode", "status", "start_at", "duration_minutes",
            "location__is_primary", "owner__username", "outcome"), key=repr),
        "leads": list(Lead.objects.order_by("partner__code", "created_at").values_list(
            "partner__code", "name", "stage", "expected_value", "value", "created_at", "converted_at", "lost_at")),
        "stage_changes": sorted(LeadStageChange.objects.values_list("lead__created_at", "from_stage", "to_stage",
                                                                    "changed_at")),
        "customers": sorted(Customer.objects.values_list(
            "name", "created_at", "lead__created_at", "partner__code", "segment__name", "assigned_to__username",
            "last_engaged_at", "next_engagement_at", "engagement_due_at"), key=repr),
        "customer_contacts": sorted(CustomerContact.objects.values_list(
            "customer__name", "customer__created_at", "kind", "value", "label", "is_primary")),
        "customer_locations": sorted(CustomerLocation.objects.values_list(
            "customer__created_at", "address", "latitude", "longitude")),
        "tickets": sorted(Ticket.objects.values_list(
            "customer__created_at", "created_at", "subject", "type", "priority", "status", "assignee__username",
            "first_response_due_at", "resolution_due_at", "first_responded_at", "resolved_at", "closed_at",
            "paused_at"), key=repr),
        "ticket_comments": sorted(TicketComment.objects.values_list("ticket__created_at", "created_at", "body",
                                                                   "internal")),
        "ticket_changes": sorted(TicketStatusChange.objects.values_list("ticket__created_at", "changed_at",
                                                                       "from_value", "to_value")),
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
    for key in ("partners", "contacts", "activities", "leads", "customers", "tickets"):
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
    converted = Customer.objects.filter(lead__isnull=False)
    assert converted.count() == Lead.objects.filter(stage=Lead.Stage.WON).count() > 0
    assert not converted.exclude(created_at=F("lead__converted_at")).exists()
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

    # Customers: the same, from their own activities and their segment's frequency (issue 13).
    customers = customer_engagement_columns()
    assert all(due is not None for _, _, _, due in customers)  # every segment has a frequency, "none" the default's
    assert any(last is None for _, last, _, _ in customers)  # a few too new to have been engaged yet: due from creation
    assert any(upcoming is not None for _, _, upcoming, _ in customers)
    customers_engagement_refresh_all()
    assert customer_engagement_columns() == customers


def customer_engagement_columns():
    return list(Customer.objects.order_by("id").values_list(
        "id", "last_engaged_at", "next_engagement_at", "engagement_due_at"))


def test_customers_are_realistic():
    """Issue 13: ~3 customers per partner (won leads + 10% of partners' direct ones), segments, contacts, locations,
    engagements owned by their rep, due dates from the segment's frequency."""
    summary = demo.demo_seed(partners=300, seed=42, today=TODAY)
    assert (summary.customers, summary.customer_contacts, summary.customer_locations) == (
        Customer.objects.count(), CustomerContact.objects.count(), CustomerLocation.objects.count())
    customers = Customer.objects.count()
    assert 300 * 2.4 <= customers <= 300 * 3.6  # ~300,000 at 100,000 partners

    # Direct customers: no lead, from ~10% of partners (1–5 each), a fifth of them with no partner, followed by a rep.
    direct = Customer.objects.filter(lead__isnull=True)
    assert 300 * 0.1 * 1.5 <= direct.count() <= 300 * 0.1 * 4.5
    assert 15 <= direct.values("partner").distinct().count() <= 45
    assert direct.filter(partner__isnull=True).exists() and direct.filter(partner__isnull=False).exists()
    assert not Customer.objects.filter(assigned_to__isnull=True).exists()
    assert not Customer.objects.filter(partner__isnull=False).exclude(assigned_to=F("partner__assigned_to")).exists()

    # Segments: three besides the migration's default "Standard", and customers with no segment (the default's).
    segments = dict(CustomerSegment.objects.values_list("name", "engage_every_days"))
    assert segments == {"Key accounts": 14, "Growth": 21, "Standard": 30, "Long tail": 90}
    assert CustomerSegment.objects.get(is_default=True).name == "Standard"
    mix = dict(Customer.objects.values_list("segment__name").annotate(n=Count("id")))
    assert set(mix) == {"Key accounts", "Growth", "Standard", "Long tail", None}
    assert 0.3 * customers <= mix["Standard"] <= 0.5 * customers and mix["Key accounts"] < mix["Growth"]
    # Due dates: (last engaged, or created) + the segment's frequency (the default's for no segment); ~20% overdue.
    for customer in Customer.objects.select_related("segment"):
        every = (customer.segment.engage_every_days if customer.segment else 30)
        assert customer.engagement_due_at == (customer.last_engaged_at or customer.created_at) + timedelta(days=every)
    overdue = Customer.objects.filter(engagement_due_at__lt=MIDNIGHT).count()
    assert 0.12 * customers <= overdue <= 0.3 * customers

    # Contacts: a primary email each; primary mobile, office phone, accounts email for some.
    assert CustomerContact.objects.filter(kind="email", is_primary=True).count() == customers
    for kind, low, high in (("mobile", 0.6, 0.8), ("phone", 0.3, 0.5)):
        assert low * customers <= CustomerContact.objects.filter(kind=kind, is_primary=True).count() <= high * customers
    assert CustomerContact.objects.filter(kind="email", is_primary=False, label="Accounts").exists()
    assert not Customer.objects.exclude(email="").exclude(contacts__kind="email", contacts__value=F("email")).exists()
    # Locations: a primary one for ~40%.
    located = CustomerLocation.objects.filter(is_primary=True).count()
    assert located == CustomerLocation.objects.count() and 0.3 * customers <= located <= 0.5 * customers

    # Activities: done engagements (never before the customer existed) and a planned call/meeting for some, owned by
    # the customer's rep, with no partner (the check constraint) and no partner location.
    activities = Activity.objects.filter(customer__isnull=False)
    assert 2 * customers <= activities.count() <= 4.5 * customers
    assert not activities.exclude(owner=F("customer__assigned_to")).exists()
    assert not activities.filter(Q(partner__isnull=False) | Q(location__isnull=False)).exists()
    assert not activities.filter(start_at__lte=F("customer__created_at")).exists()
    assert not activities.filter(status="done", start_at__gte=MIDNIGHT).exists()
    planned = activities.filter(status="planned")
    assert planned.exists() and not planned.filter(start_at__lt=MIDNIGHT).exists()
    assert not planned.exclude(mode="scheduled", kind__in=("call", "meeting")).exists()

    # A rep sees their customers (assigned, or brought by their partners); the manager all.
    User = get_user_model()
    rep = User.objects.get(username="rep1")
    assert set(customers_visible_to(rep)) == set(Customer.objects.filter(assigned_to=rep))
    assert customers_visible_to(User.objects.get(username="manager")).count() == customers


def test_tickets_are_realistic():
    """Issue 13: ~1.7 tickets per customer over two years, most resolved or closed, due dates from the service
    levels, comments and recent status history as the services write them, past breaches already notified."""
    summary = demo.demo_seed(partners=300, seed=42, today=TODAY)
    tickets = Ticket.objects.count()
    customers = Customer.objects.count()
    assert (summary.tickets, summary.ticket_comments, summary.ticket_changes) == (
        tickets, TicketComment.objects.count(), TicketStatusChange.objects.count())
    assert 1.3 * customers <= tickets <= 2.1 * customers  # ~500,000 at 100,000 partners
    assert not Ticket.objects.filter(created_at__lte=F("customer__created_at")).exists()
    assert not Ticket.objects.filter(created_at__gte=MIDNIGHT).exists()
    assert Ticket.objects.filter(created_at__lt=MIDNIGHT - timedelta(days=540)).exists()  # spread over two years

    statuses = dict(Ticket.objects.values_list("status").annotate(n=Count("id")))
    assert set(statuses) == set(Ticket.Status.values)
    open_tickets = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
    assert 0.1 * tickets <= open_tickets.count() <= 0.2 * tickets
    assert statuses["closed"] > statuses["resolved"] > statuses["new"]
    priorities = dict(Ticket.objects.values_list("priority").annotate(n=Count("id")))
    assert priorities["normal"] > priorities["high"] > priorities["urgent"] > 0 and priorities["low"] > 0
    assignees = Ticket.objects.filter(assignee=F("customer__assigned_to")).count()
    assert 0.85 * tickets <= assignees <= 0.95 * tickets
    assert Ticket.objects.filter(assignee__isnull=True).exists()

    # The clock: due dates from the priority's service level; stopped (paused_at) unless new/open; resolved (some
    # late) and closed in order; first responses before the rest.
    levels = {level.priority: level for level in ServiceLevel.objects.all()}
    for ticket in Ticket.objects.all():
        level = levels[ticket.priority]
        assert ticket.first_response_due_at == ticket.created_at + timedelta(minutes=level.first_response_minutes)
        assert ticket.resolution_due_at == ticket.created_at + timedelta(minutes=level.resolution_minutes)
        assert (ticket.paused_at is None) == (ticket.status in Ticket.RUNNING_STATUSES)
        assert (ticket.resolved_at is not None) == (ticket.status in Ticket.DONE_STATUSES)
        assert (ticket.closed_at is not None) == (ticket.status == Ticket.Status.CLOSED)
        assert (ticket.first_responded_at is None) == (ticket.status == Ticket.Status.NEW)
        moments = [ticket.created_at, ticket.first_responded_at, ticket.paused_at if ticket.is_open else None,
                   ticket.resolved_at, ticket.closed_at]
        moments = [moment for moment in moments if moment is not None]
        assert moments == sorted(moments) and moments[-1] < MIDNIGHT, ticket.pk
    late = Ticket.objects.filter(resolved_at__gt=F("resolution_due_at")).count()
    assert 0.05 * tickets <= late <= 0.15 * tickets
    breached = open_tickets.filter(status__in=Ticket.RUNNING_STATUSES, resolution_due_at__lt=MIDNIGHT).count()
    assert 0 < breached < 0.6 * open_tickets.filter(status__in=Ticket.RUNNING_STATUSES).count()
    # Breaches that passed before the seed's midnight count as notified: the first beat tick claims none of them.
    assert tickets_notify_breaches(now=MIDNIGHT) == 0

    # Comments: the first public one is the first response, by the assignee; resolutions; internal notes for some.
    first = TicketComment.objects.filter(internal=False).order_by("ticket_id", "created_at", "id").distinct("ticket_id")
    assert {(c.ticket_id, c.created_at) for c in first} == set(
        Ticket.objects.exclude(first_responded_at=None).values_list("id", "first_responded_at"))
    assert TicketComment.objects.filter(internal=False).count() == (
        Ticket.objects.exclude(first_responded_at=None).count() + Ticket.objects.exclude(resolved_at=None).count())
    notes = TicketComment.objects.filter(internal=True).count()
    assert 0.2 * tickets <= notes <= 0.4 * tickets
    assert not TicketComment.objects.filter(created_at__lt=F("ticket__created_at")).exists()

    # Status history: what the services write, for the tickets of the last TICKET_HISTORY_DAYS only.
    recent = Ticket.objects.filter(created_at__gt=MIDNIGHT - timedelta(days=demo.TICKET_HISTORY_DAYS))
    assert TicketStatusChange.objects.filter(from_value="", to_value="new").count() == recent.count() > 0
    assert not TicketStatusChange.objects.exclude(ticket__in=recent).exists()
    for ticket in recent.prefetch_related("history").filter(status="closed")[:20]:
        assert [(c.from_value, c.to_value) for c in ticket.history.all()] == [
            ("", "new"), ("new", "open"), ("open", "resolved"), ("resolved", "closed")]
        assert ticket.history.all()[3].changed_at == ticket.closed_at


def test_a_second_seed_reuses_the_segments_and_their_frequencies():
    """--replace keeps the segments (not demo data: admin settings): an edited frequency is what the new due dates
    follow, and no segment is created twice."""
    demo.demo_seed(partners=20, seed=1, today=TODAY)
    CustomerSegment.objects.filter(name="Long tail").update(engage_every_days=60)
    demo.demo_clear()
    assert not Customer.objects.exists() and not Ticket.objects.exists() and CustomerSegment.objects.count() == 4
    demo.demo_seed(partners=20, seed=1, today=TODAY)
    assert CustomerSegment.objects.count() == 4
    long_tail = Customer.objects.filter(segment__name="Long tail")
    assert long_tail.exists()
    for customer in long_tail:
        assert customer.engagement_due_at == (customer.last_engaged_at or customer.created_at) + timedelta(days=60)


def test_command_refuses_to_mix_with_existing_data_and_prints_logins(capsys):
    call_command("seed_demo", "--partners", "5")
    out = capsys.readouterr().out
    assert "Loaded 5 partners" in out and demo.DEMO_PASSWORD in out
    with pytest.raises(CommandError):
        call_command("seed_demo", "--partners", "5")
    call_command("seed_demo", "--if-empty")
    assert "nothing to do" in capsys.readouterr().out
    assert Ticket.objects.exists()  # --replace clears customers and tickets too (their tables are in the TRUNCATE)
    call_command("seed_demo", "--partners", "3", "--replace")
    assert Partner.objects.count() == 3
    assert not Customer.objects.exclude(partner__in=Partner.objects.all()).exclude(partner__isnull=True).exists()



def test_the_command_leaves_what_the_nightly_jobs_would_have_made(capsys):
    """A new user of `make run` finds suggestions on Today and figures on /team/ without waiting for the night."""
    from insights.models import Insight, TeamAttainment

    call_command("seed_demo", "--partners", "40")
    out = capsys.readouterr().out
    assert "insights:" in out and "team dashboard figures" in out
    assert Insight.objects.filter(state=Insight.State.OPEN).exists()
    assert TeamAttainment.objects.exists()
