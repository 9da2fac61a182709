"""Deterministic demo data: reps and a manager, partners with contacts and locations, two years of activities and
leads, targets and achievements.

Everything is generated in Python from one ``random.Random(seed)`` and written set-based (COPY, ``prm.pg``) in
chunks of partners, so memory stays flat and 100,000 partners take minutes. Times are relative to ``today`` (midnight
UTC of the day it runs), so the same seed gives the same data on the same day.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Max

from activities.models import Activity
from activities.services import partners_engagement_refresh_all
from business import periods
from business.metrics import metrics_compute_range
from business.models import Achievement, Frequency, Parameter, Target, UploadBatch
from leads.models import Customer, Lead, LeadStageChange
from partners.models import CodeChange, ContactPoint, Location, Partner, StatusChange, Tier
from partners.roles import MANAGER, SALES_REP
from prm.pg import analyze, insert_rows, reset_sequences, vacuum_analyze

DEMO_PASSWORD = "prm-demo-2026"  # noqa: S105 (published demo login)
MANAGER_USERNAME = "manager"
CHUNK = 2_000
HISTORY_DAYS = 730

ADJECTIVES = ["Blue", "Silver", "Golden", "Northern", "Coastal", "Summit", "Prime", "Bright", "Green", "Royal",
              "Swift", "Urban", "Metro", "Lotus", "Sapphire", "Evergreen", "Pioneer", "Harbor", "Crescent", "Apex"]
NOUNS = ["Harbor", "Peak", "River", "Bridge", "Valley", "Star", "Field", "Gate", "Oak", "Delta",
         "Horizon", "Circle", "Anchor", "Crown", "Falcon", "Maple", "Orbit", "Stone", "Lake", "Sun"]
SUFFIXES = ["Traders", "Distributors", "Associates", "Partners", "Solutions", "Enterprises", "Agencies",
            "Consulting", "Brokers", "Ventures", "Retail", "Services"]
FIRST_NAMES = ["Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Meera", "Arjun", "Kavya", "Rahul", "Sneha",
               "Karan", "Isha", "Nikhil", "Pooja", "Sanjay", "Divya", "Amit", "Neha", "Ravi", "Lakshmi"]
LAST_NAMES = ["Sharma", "Iyer", "Patel", "Reddy", "Nair", "Gupta", "Menon", "Singh", "Rao", "Das",
              "Kulkarni", "Joshi", "Banerjee", "Pillai", "Chopra", "Mehta", "Bhat", "Kapoor", "Shetty", "Verma"]
CITIES = [("Bengaluru", 12.9716, 77.5946), ("Mumbai", 19.0760, 72.8777), ("Delhi", 28.7041, 77.1025),
          ("Chennai", 13.0827, 80.2707), ("Hyderabad", 17.3850, 78.4867), ("Pune", 18.5204, 73.8567),
          ("Kolkata", 22.5726, 88.3639), ("Ahmedabad", 23.0225, 72.5714), ("Jaipur", 26.9124, 75.7873),
          ("Kochi", 9.9312, 76.2673)]
STREETS = ["MG Road", "Brigade Road", "Linking Road", "Anna Salai", "Park Street", "FC Road", "Banjara Hills Rd 3",
           "Residency Road", "SG Highway", "MI Road"]
OUTCOMES = ["Discussed next quarter's pipeline.", "Shared the new product deck.", "Agreed on two joint visits.",
            "Partner asked for better payout terms.", "Reviewed open leads one by one.", "Left a voicemail.",
            "Trained their new sales staff.", "Collected feedback on onboarding.", "Planned a local event.",
            "Followed up on a delayed payment."]
PAST_KINDS = [("call", 40), ("meeting", 25), ("email", 15), ("message", 10), ("visit", 10)]
TIER_MIX = [("Platinum", 10), ("Gold", 30), ("Silver", 60)]
LEADS_PER_TWO_YEARS = {"Platinum": 20, "Gold": 12, "Silver": 7}
DEAL_SIZE = {"Platinum": 40_000, "Gold": 15_000, "Silver": 6_000}
TRAININGS = "trainings_completed"


@dataclass
class Summary:
    partners: int = 0
    contacts: int = 0
    locations: int = 0
    activities: int = 0
    leads: int = 0
    stage_changes: int = 0
    customers: int = 0
    targets: int = 0
    achievements: int = 0
    reps: list[str] = field(default_factory=list)


def demo_seed(
    *, partners: int = 200, seed: int = 42, today: date | None = None, progress: Callable[[str], None] | None = None
) -> Summary:
    """Create the demo dataset. Refuses to run on a database that already has partners (use demo_clear first)."""
    progress = progress or (lambda message: None)
    today = today or datetime.now(UTC).date()
    anchor = datetime.combine(today, time(0), tzinfo=UTC)
    rng = random.Random(seed)
    if Partner.objects.exists():
        raise ValueError("the database already has partners; run seed_demo with --replace to start over")

    summary = Summary()
    with transaction.atomic():
        reps, manager = _users(partners)
        summary.reps = [rep.username for rep in reps]
        tiers = {tier.name: tier for tier in Tier.objects.all()}
        params = _parameters()
        ids = _IdAllocator()
        for start in range(0, partners, CHUNK):
            count = min(CHUNK, partners - start)
            _chunk(rng, start, count, reps, tiers, params, anchor, ids, summary)
            progress(f"partners {start + count:,}/{partners:,} · activities {summary.activities:,} · leads {summary.leads:,}")
        models = [Partner, ContactPoint, Location, Activity, Lead, LeadStageChange, Customer, Target, Achievement]
        reset_sequences(*models)
        analyze(*models)  # fresh statistics, so the planner uses the indexes for what follows
        progress("refreshing last/next engagement of every partner (set-based)")
        partners_engagement_refresh_all()
    summary.achievements += _compute_generated(today, progress)
    # Leave the tables as a server with autovacuum would soon have them. The refresh above rewrites every partner row
    # after the first ANALYZE (stale statistics: the planner then estimated 1 overdue partner instead of ~15k and
    # picked a 100 ms plan for the list), and the dead rows and unset visibility map make COUNT(*) and index-only scans
    # several times slower. Servers running with autovacuum off (this project's CI) never fix that by themselves.
    # Inside a transaction (tests) vacuum_analyze can only ANALYZE.
    progress("VACUUM (ANALYZE) of the tables written (statistics and visibility map after the bulk writes)")
    vacuum_analyze(*models, StatusChange)
    return summary


def demo_clear() -> None:
    """Delete all partners and everything hanging off them (not users, tiers or parameters): one TRUNCATE."""
    models = [Achievement, Target, Customer, LeadStageChange, Lead, Activity, ContactPoint, Location, Partner,
              StatusChange, CodeChange, UploadBatch]
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses while deferred checks are pending
        cursor.execute(f"TRUNCATE {tables}")


def _compute_generated(today, progress):
    first = periods.shift(periods.period_start(today, Frequency.MONTHLY), Frequency.MONTHLY, -23)
    progress("computing generated leads and revenue for 24 months (set-based)")
    result = metrics_compute_range(since=first, until=today)
    return sum(result.written.values())


class _IdAllocator:
    """Explicit ids so that rows of one chunk can point at each other without reading them back."""

    def __init__(self):
        self.next = {}

    def take(self, model, count):
        if model not in self.next:
            self.next[model] = (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        first = self.next[model]
        self.next[model] = first + count
        return range(first, first + count)


def _users(partner_count):
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)  # hash once: PBKDF2 per user would dominate a large seed
    rep_group = Group.objects.get(name=SALES_REP)
    manager_group = Group.objects.get(name=MANAGER)
    rep_count = max(3, min(500, partner_count // 40))
    reps = []
    for n in range(1, rep_count + 1):
        rep, _ = User.objects.get_or_create(
            username=f"rep{n}",
            defaults={"first_name": FIRST_NAMES[n % 20], "last_name": LAST_NAMES[(n * 7) % 20],
                      "email": f"rep{n}@example.com", "password": password},
        )
        rep.groups.add(rep_group)
        reps.append(rep)
    manager, _ = User.objects.get_or_create(
        username=MANAGER_USERNAME,
        defaults={"first_name": "Maya", "last_name": "Manager", "email": "manager@example.com",
                  "password": password, "is_staff": True},
    )
    manager.groups.add(manager_group)
    return reps, manager


def _parameters():
    params = {p.code: p for p in Parameter.objects.all()}
    if TRAININGS not in params:
        params[TRAININGS] = Parameter.objects.create(
            code=TRAININGS, name="Trainings completed", unit="count", frequency=Frequency.QUARTERLY,
            source=Parameter.Source.UPLOADED, order=10,
            description="Partner staff trainings completed, uploaded quarterly by the enablement team.",
        )
    return params


def _weighted(rng, choices):
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _chunk(rng, start, count, reps, tiers, params, anchor, ids, summary):
    partner_ids = ids.take(Partner, count)
    partner_rows, contact_rows, location_rows = [], [], []
    activity_rows, lead_rows, stage_rows, customer_rows, target_rows, achievement_rows = [], [], [], [], [], []
    for n, partner_id in zip(range(start, start + count), partner_ids, strict=True):
        tier = _weighted(rng, TIER_MIX)
        rep = reps[rng.randrange(len(reps))]
        individual = rng.random() < 0.2
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}" if individual else f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(SUFFIXES)}"
        created = anchor - timedelta(days=HISTORY_DAYS + rng.randrange(0, 365))
        partner_rows.append((
            partner_id, f"DEMO-{n + 1:06d}", name, "individual" if individual else "organisation",
            tiers[tier].id, "active", "", "rule", created, rep.id,
            Decimal(DEAL_SIZE[tier] * LEADS_PER_TWO_YEARS[tier] // 2), "", "",
            {}, created, created,
        ))
        slug = name.lower().replace(" ", ".")
        phone = f"+91 98{rng.randrange(10**7, 10**8)}"
        contacts = [("mobile", phone, "Owner", True), ("email", f"{slug}@example.com", "", True),
                    ("whatsapp", phone, "", True)]
        if rng.random() < 0.5:
            contacts.append(("phone", f"+91 80 {rng.randrange(10**7, 10**8)}", "Office", True))
        if rng.random() < 0.3:
            contacts.append(("email", f"accounts.{slug}@example.com", "Accounts", False))
        for cid, (kind, value, label, primary) in zip(ids.take(ContactPoint, len(contacts)), contacts, strict=True):
            contact_rows.append((cid, partner_id, kind, value, label, primary))
        city, lat, lng = rng.choice(CITIES)
        location_count = 2 if rng.random() < 0.3 else 1
        location_ids = list(ids.take(Location, location_count))
        for k, lid in enumerate(location_ids):
            location_rows.append((
                lid, partner_id, "Head office" if k == 0 else "Branch",
                f"{rng.randrange(1, 400)} {rng.choice(STREETS)}, {city}",
                Decimal(f"{lat + rng.uniform(-0.05, 0.05):.6f}"), Decimal(f"{lng + rng.uniform(-0.05, 0.05):.6f}"),
                k == 0,
            ))
        _activities(rng, partner_id, rep.id, tier, tiers, location_ids[0], anchor, ids, activity_rows)
        _leads(rng, partner_id, rep.id, tier, anchor, ids, lead_rows, stage_rows, customer_rows, name)
        _targets(rng, partner_id, tier, params, anchor, target_rows, achievement_rows)

    insert_rows(Partner, ["id", "code", "name", "kind", "tier_id", "status", "status_reason", "status_set_by",
                          "status_changed_at", "assigned_to_id", "business_potential", "website", "notes", "profile",
                          "created_at", "updated_at"], partner_rows)
    insert_rows(ContactPoint, ["id", "partner_id", "kind", "value", "label", "is_primary"], contact_rows)
    insert_rows(Location, ["id", "partner_id", "label", "address", "latitude", "longitude", "is_primary"],
                location_rows)
    insert_rows(Lead, ["id", "name", "company", "email", "phone", "partner_id", "assigned_to_id", "stage",
                       "expected_value", "value", "created_at", "converted_at", "lost_at", "updated_at"], lead_rows)
    insert_rows(LeadStageChange, ["lead_id", "from_stage", "to_stage", "changed_by_id", "changed_at"], stage_rows)
    insert_rows(Customer, ["name", "company", "email", "phone", "lead_id", "partner_id", "assigned_to_id",
                           "created_at"], customer_rows)
    insert_rows(Activity, ["partner_id", "kind", "mode", "status", "subject", "start_at", "duration_minutes",
                           "location_id", "place", "owner_id", "outcome", "completed_at", "created_at",
                           "updated_at"], activity_rows)
    insert_rows(Target, ["partner_id", "parameter_id", "period_start", "value", "updated_at"], target_rows)
    insert_rows(Achievement, ["partner_id", "parameter_id", "period_start", "value", "source", "updated_at"],
                achievement_rows)
    summary.partners += len(partner_rows)
    summary.contacts += len(contact_rows)
    summary.locations += len(location_rows)
    summary.activities += len(activity_rows)
    summary.leads += len(lead_rows)
    summary.stage_changes += len(stage_rows)
    summary.customers += len(customer_rows)
    summary.targets += len(target_rows)
    summary.achievements += len(achievement_rows)


def _activities(rng, partner_id, owner_id, tier, tiers, location_id, anchor, ids, rows):
    every = tiers[tier].engage_every_days
    neglected = rng.random() < 0.15
    moment = anchor - timedelta(days=rng.randrange(45, 120) if neglected else rng.uniform(0, every * 0.9),
                                hours=rng.randrange(0, 10))
    start = anchor - timedelta(days=HISTORY_DAYS)
    while moment > start:
        kind = _weighted(rng, PAST_KINDS)
        mode = "scheduled" if kind in ("call", "meeting") and rng.random() < 0.4 else "logged"
        at = moment.replace(hour=9 + rng.randrange(0, 9), minute=rng.choice((0, 15, 30, 45)))
        duration = rng.choice((10, 15, 20, 30)) if kind == "call" else rng.choice((30, 45, 60, 90))
        rows.append((partner_id, kind, mode, "done", "", at, duration,
                     location_id if kind in ("meeting", "visit") else None, "", owner_id, rng.choice(OUTCOMES),
                     at + timedelta(minutes=duration), at, at))
        if rng.random() < 0.04:  # a meeting that was called off
            rows.append((partner_id, "meeting", "scheduled", "cancelled", "Quarterly review", at - timedelta(days=2),
                         60, location_id, "", owner_id, "Partner rescheduled.", None, at, at))
        moment -= timedelta(days=every * rng.uniform(1.2, 3.0))
    for _ in range(0 if neglected else rng.choice((0, 1, 1, 2))):
        kind = rng.choice(("call", "meeting"))
        at = (anchor + timedelta(days=rng.randrange(1, 21))).replace(hour=9 + rng.randrange(0, 8))
        rows.append((partner_id, kind, "scheduled", "planned", f"{kind.title()}: pipeline review", at,
                     30 if kind == "call" else 60, location_id if kind == "meeting" else None, "", owner_id, "",
                     None, anchor, anchor))
    if rng.random() < 0.4:
        at = (anchor + timedelta(days=rng.randrange(0, 10))).replace(hour=8)
        rows.append((partner_id, "task", "reminder", "planned", "Send the updated price list", at, None, None, "",
                     owner_id, "", None, anchor, anchor))


def _leads(rng, partner_id, owner_id, tier, anchor, ids, lead_rows, stage_rows, customer_rows, partner_name):
    count = rng.randrange(0, 2 * LEADS_PER_TWO_YEARS[tier] + 1)
    lead_ids = ids.take(Lead, count)
    for lead_id in lead_ids:
        created = anchor - timedelta(days=rng.uniform(0, HISTORY_DAYS))
        age = (anchor - created).days
        stage = _weighted(rng, [("won", 30), ("lost", 45), ("qualified", 10), ("contacted", 10), ("new", 5)]
                          if age > 90 else
                          [("new", 40), ("contacted", 30), ("qualified", 15), ("won", 10), ("lost", 5)])
        expected = Decimal(int(DEAL_SIZE[tier] * rng.uniform(0.3, 1.8)))
        closed = min(created + timedelta(days=rng.uniform(5, 60)), anchor - timedelta(minutes=1))
        value = (expected * Decimal(str(round(rng.uniform(0.7, 1.2), 2)))).quantize(Decimal("1")) if stage == "won" else None
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        lead_name = f"{first} {last}"
        lead_rows.append((lead_id, lead_name, f"{last} & Co", f"{first.lower()}.{last.lower()}@example.net", "",
                          partner_id, owner_id, stage, expected, value, created,
                          closed if stage == "won" else None, closed if stage == "lost" else None,
                          closed if stage in ("won", "lost") else created))
        stage_rows.append((lead_id, "", "new", owner_id, created))
        if stage != "new":
            stage_rows.append((lead_id, "new", stage, owner_id, closed if stage in ("won", "lost") else created))
        if stage == "won":
            customer_rows.append((lead_name, f"{last} & Co", f"{first.lower()}.{last.lower()}@example.net", "",
                                  lead_id, partner_id, owner_id, closed))


def _targets(rng, partner_id, tier, params, anchor, target_rows, achievement_rows):
    monthly_leads = Decimal(max(1, round(LEADS_PER_TWO_YEARS[tier] / 24 * rng.uniform(1.0, 1.6))))
    monthly_revenue = Decimal(round(DEAL_SIZE[tier] * LEADS_PER_TWO_YEARS[tier] / 24 * 0.3 * rng.uniform(0.8, 1.5), -2))
    current = periods.period_start(anchor.date(), Frequency.MONTHLY)
    for offset in range(-11, 2):
        month = periods.shift(current, Frequency.MONTHLY, offset)
        target_rows.append((partner_id, params[Parameter.LEADS_GENERATED].id, month, monthly_leads, anchor))
        target_rows.append((partner_id, params[Parameter.REVENUE].id, month, monthly_revenue, anchor))
    trainings = params[TRAININGS]
    quarter = periods.period_start(anchor.date(), Frequency.QUARTERLY)
    for offset in range(-3, 1):
        start = periods.shift(quarter, Frequency.QUARTERLY, offset)
        target_rows.append((partner_id, trainings.id, start, Decimal(4), anchor))
        if offset < 0:
            achievement_rows.append((partner_id, trainings.id, start, Decimal(rng.randrange(0, 7)), "upload", anchor))
