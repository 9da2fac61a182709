"""Deterministic demo data: reps and a manager, partners with contacts and locations, two years of activities and
leads, targets and achievements.

What it generates, per partner: a tier (10% Platinum, 30% Gold, 60% Silver), a rep, 20% individuals; 3–5 contact
points (primary mobile, email and WhatsApp, half with an office phone, 30% with a non-primary accounts email); one
primary location (30% with a branch too); done calls, meetings, emails, messages and visits going back two years,
spaced 1.2–3× the tier's engagement frequency (15% of partners are neglected: last engagement 45–120 days ago), 4% of
them with a cancelled meeting, 0–2 planned calls/meetings in the next three weeks and a reminder for 40%; 0–2× the
tier's leads per two years (Platinum 20, Gold 12, Silver 7), their stage mix by age, one stage-change row per lead
plus one for those past "new", a customer per won lead; monthly targets of leads and revenue for 13 months (-11..+1),
quarterly trainings targets (4 quarters) and uploaded achievements (the 3 past ones). Generated achievements (leads,
conversions, revenue of 24 months) come from ``business.metrics.metrics_compute_range``.

How: set-based in PostgreSQL, in one transaction: one ``INSERT … SELECT … FROM generate_series(…)`` per table and
per chunk of ``CHUNK`` partners (leads, their stage changes and customers in one statement, the last two from the
inserted leads via RETURNING). Every value is a hash (``hashint8extended``) of the seed, a per-field salt and the row's
key (the partner number, and the activity's or lead's rank within its partner), never ``random()``: the data is the
same whatever plan, order or parallelism the server picks. Ids are explicit (partners and primary locations from the
partner number, the other rows numbered with ``row_number()``), so rows point at each other without reading them back.
A partner's last/next engagement and due date are computed while inserting it, from the same SQL expressions that
place its latest done and earliest planned activity: no pass over the activities (the tests check them against
``activities.services.partners_engagement_refresh_all``). During the load the tables' non-unique indexes and foreign
keys are dropped, then put back exactly as they were (``_bulk_load``). After the contact points,
``partners.services.partners_search_refresh`` fills the partners' search documents. Then ANALYZE, the generated
achievements (``business.metrics.metrics_compute_range``, 24 months, in its own transactions) and VACUUM (ANALYZE).
Times are relative to ``today`` (midnight UTC of the day it runs): the same seed gives the same data on the same day.

Customers and their tickets (issue 13): besides the won leads' customers, 10% of partners bring 1–5 direct customers
(no lead; a fifth of them with no partner either), ~300,000 customers in all at 100,000 partners. Each customer gets a
segment (Key accounts 14 days 10%, Growth 21 15%, Standard 30 40%, no segment — the default's frequency — 15%, Long
tail 90 20%; ``SEGMENT_MIX``), a primary email, for 70% a primary mobile (the quick actions' WhatsApp uses it), for
40% an office phone, 15% an accounts email, for 40% a primary location; up to three done engagements (the latest
within the segment's frequency, or 1–3× past it for 20% neglected ones, never before the customer existed) and for
40% of the others a planned call/meeting in the next 20 days, owned by its rep. Its last/next engagement and due date
— (last, or created) + the segment's frequency — are computed while inserting it, from the same expressions that
place those activities (``_customer_story``). Tickets: 0–7 per customer in proportion to its age (~1.7 each, ~500,000
at 100,000 partners, more every month as customers accumulate), spread over the customer's life; 85% resolved or
closed, 15% open (new, open, waiting on customer, on hold: recent, about a third of the running ones past their
service level); due dates from the ServiceLevel rows (created + first response / resolution minutes, no stopped time),
10% resolved late; assigned to the customer's rep (90%), another rep (7%) or nobody; a first public reply when the
first response happened, a resolution reply, an internal note for 30%; the status history the services would have
written, for the tickets of the last ``TICKET_HISTORY_DAYS`` (older ones have none, as if imported); breaches that
passed before the seed's midnight are marked notified, so the first beat tick does not flood the reps. No attachments
(no files). These rows are written per chunk of ``CUSTOMER_CHUNK`` customer ids once the customers exist, hashed from
the customer's number (its id minus the seed's first) and the ticket's number within its customer.

Sizes: ~21 activities and ~10 leads per partner (100,000 partners: 2.1M activities, 1.0M leads, 1.9M stage changes,
3M targets; 300k customers with 0.85M activities and 0.67M contacts, 0.5M tickets with 1.05M comments and 0.53M status
changes). Above ``FULL_HISTORY_PARTNERS`` the gaps between past activities widen, so 1,000,000 partners get ~11
each (11.4M, still two years of history); leads are capped the same way above ``LEAD_CAP_PARTNERS``.
Timings on a 2-core machine shared with other jobs (load average ~2), wall clock of ``seed_demo``: 100,000 partners
~175 s (~120 s the load, ~50 s the generated achievements); at load ~4 ~205 s, of which the customers' rows and
tickets ~25 s and their indexes and keys ~20 s (docs/benchmarks.md, issue 13); 1,000,000 partners: see docs or the
progress lines, which time each step.
"""

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time

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
from insights.models import Insight, TeamAttainment, TeamMover
from leads.customer_services import segment_save
from leads.models import Customer, CustomerContact, CustomerLocation, CustomerSegment, Lead, LeadStageChange
from partners.models import CodeChange, ContactPoint, Location, Partner, StatusChange, Tier
from partners.roles import MANAGER, SALES_REP
from partners.services import partners_search_refresh
from prm.pg import analyze, reset_sequences, set_local, vacuum_analyze
from service.models import ServiceLevel, Ticket, TicketAttachment, TicketComment, TicketStatusChange
from service.sla import DEFAULT_LEVELS

DEMO_PASSWORD = "prm-demo-2026"  # noqa: S105 (published demo login)
MANAGER_USERNAME = "manager"
CHUNK = 100_000  # partners per INSERT: ~2M activities or 3M targets in one statement, streamed by the server
CUSTOMER_CHUNK = 300_000  # customers per INSERT: ~500k tickets and 1.1M comments in one statement
HISTORY_DAYS = 730
# Up to FULL_HISTORY_PARTNERS partners, ~21 activities per partner; above, the gaps between past activities widen by
# partners / FULL_HISTORY_PARTNERS, so the seed stays at ~10–11M activities (still two years of history). Leads (~10
# per partner) are scaled down the same way above LEAD_CAP_PARTNERS.
FULL_HISTORY_PARTNERS = 500_000
LEAD_CAP_PARTNERS = 1_000_000

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
LOST_REASONS = ["No budget this year.", "Chose a competitor.", "No reply after three follow-ups.",
                "Project cancelled.", "Price too high.", "Not a fit for our product."]
OUTCOMES = ["Discussed next quarter's pipeline.", "Shared the new product deck.", "Agreed on two joint visits.",
            "Partner asked for better payout terms.", "Reviewed open leads one by one.", "Left a voicemail.",
            "Trained their new sales staff.", "Collected feedback on onboarding.", "Planned a local event.",
            "Followed up on a delayed payment."]
PAST_KINDS = [("call", 40), ("meeting", 25), ("email", 15), ("message", 10), ("visit", 10)]
TIER_MIX = [("Platinum", 10), ("Gold", 30), ("Silver", 60)]
LEADS_PER_TWO_YEARS = {"Platinum": 20, "Gold": 12, "Silver": 7}
DEAL_SIZE = {"Platinum": 40_000, "Gold": 15_000, "Silver": 6_000}
TRAININGS = "trainings_completed"
# Customer segments: (name, days when it is created, share %); None: no segment (the default segment's frequency).
SEGMENT_MIX = [("Key accounts", 14, 10), ("Growth", 21, 15), ("Standard", 30, 40), (None, None, 15),
               ("Long tail", 90, 20)]
CUSTOMER_OUTCOMES = ["Renewal discussed, no blockers.", "Walked them through the new release.",
                     "Asked for a quote on more seats.", "Reviewed their open tickets together.",
                     "Introduced the new support contact.", "They want a training for new staff.",
                     "Left a voicemail.", "Confirmed the next delivery date."]
TICKET_TYPES = [("question", 35), ("incident", 30), ("problem", 10), ("request", 25)]
TICKET_PRIORITIES = ["low", "normal", "high", "urgent"]  # index 1..4 into the service level arrays
TICKET_PRIORITY_MIX = [("1", 20), ("2", 50), ("3", 22), ("4", 8)]
TICKET_OPEN_MIX = [("new", 25), ("open", 35), ("waiting", 25), ("on_hold", 15)]
TICKET_DONE_MIX = [("resolved", 25), ("closed", 75)]
TICKET_SUBJECTS = ["Cannot log in to the portal", "Invoice shows the wrong amount", "Delivery arrived damaged",
                   "Request for a product demo", "App crashes when exporting", "Change the billing address",
                   "Order stuck in processing", "Question about the warranty", "Add two users to our account",
                   "Report is missing last month", "Password reset email never arrives", "Upgrade our plan"]
TICKET_DESCRIPTIONS = ["Reported by phone; the customer is waiting for an answer.",
                       "Happens since last week, for several of their staff.",
                       "They sent screenshots by email; details in the notes.",
                       "Not urgent for them, but they asked twice.",
                       "Blocking their month-end closing."]
TICKET_REPLIES = ["Thanks for reporting this, we are looking into it.", "Could you send us a screenshot?",
                  "We have reproduced the problem and are working on a fix.", "I have forwarded this to our team."]
TICKET_RESOLUTIONS = ["Fixed on our side; please confirm it works for you.", "Done as requested.",
                      "Answered by phone; closing this ticket.", "Replaced under warranty."]
TICKET_NOTES = ["Checked the logs: a known issue.", "Customer is a key account, handle with care.",
                "Waiting for the warehouse to confirm.", "Asked finance about the invoice."]
TICKET_HISTORY_DAYS = 90  # the status history is written for tickets created within these days
# Summary field -> the model it counts.
_MODELS = {"partners": Partner, "contacts": ContactPoint, "locations": Location, "activities": Activity, "leads": Lead,
           "stage_changes": LeadStageChange, "customers": Customer, "targets": Target, "achievements": Achievement,
           "customer_contacts": CustomerContact, "customer_locations": CustomerLocation, "tickets": Ticket,
           "ticket_comments": TicketComment, "ticket_changes": TicketStatusChange}


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
    customer_contacts: int = 0
    customer_locations: int = 0
    tickets: int = 0
    ticket_comments: int = 0
    ticket_changes: int = 0
    reps: list[str] = field(default_factory=list)


def demo_seed(
    *, partners: int = 200, seed: int = 42, today: date | None = None, progress: Callable[[str], None] | None = None
) -> Summary:
    """Create the demo dataset. Refuses to run on a database that already has partners (use demo_clear first)."""
    progress = progress or (lambda message: None)
    today = today or datetime.now(UTC).date()
    if Partner.objects.exists():
        raise ValueError("the database already has partners; run seed_demo with --replace to start over")

    summary = Summary()
    models = list(_MODELS.values())
    with transaction.atomic():
        # One transaction, so a failed seed leaves nothing behind; synchronous_commit off is safe for it (a crash
        # loses the seed, which is rerun).
        set_local(synchronous_commit="off", work_mem="256MB", maintenance_work_mem="1GB", jit="off")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fire what earlier writes queued: ALTER TABLE needs it
        reps, _manager = _users(partners)
        summary.reps = [rep.username for rep in reps]
        params = _sql_params(partners=partners, seed=seed, today=today, rep_ids=[rep.id for rep in reps])
        # The last id of each table: a statement's rows are numbered on from it.
        bases = {f"{name}_base": model.objects.aggregate(m=Max("id"))["m"] or 0 for name, model in _MODELS.items()}
        params["customers_first"], params["tickets_first"] = bases["customers_base"], bases["tickets_base"]
        with _bulk_load([m._meta.db_table for m in models], progress):
            for label, sql, names, per_customer in _STEPS:
                started, rows = time.monotonic(), 0
                # Partner numbers 1..partners, or the ids of the customers written by this seed (known by now).
                first, last, size = ((params["customers_first"] + 1, bases["customers_base"], CUSTOMER_CHUNK)
                                     if per_customer else (1, partners, CHUNK))
                for lo in range(first, last + 1, size):
                    with connection.cursor() as cursor:
                        cursor.execute(sql, {**params, **bases, "lo": lo, "hi": min(last, lo + size - 1)})
                        counts = cursor.fetchone() if len(names) > 1 else (cursor.rowcount,)
                    for name, count in zip(names, counts, strict=True):
                        setattr(summary, name, getattr(summary, name) + count)
                        bases[f"{name}_base"] += count
                    rows += sum(counts)
                progress(f"{label}: {rows:,} rows in {time.monotonic() - started:.1f} s")
                if label == "contact points":
                    started = time.monotonic()
                    partners_search_refresh()  # the partner search documents hold the contact values
                    progress(f"partner search documents (partners_search_refresh) in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        reset_sequences(*models)  # every row has an explicit id
        analyze(*models)  # fresh statistics, so the planner uses the indexes for the metrics that follow
        progress(f"sequences and ANALYZE in {time.monotonic() - started:.1f} s")
        summary.activities += _rep_day(reps[0], today)
    started = time.monotonic()
    summary.achievements += _compute_generated(today, progress)
    progress(f"generated achievements (metrics_compute_range) in {time.monotonic() - started:.1f} s")
    # Leave the tables as a server with autovacuum would soon have them: the visibility map set (COUNT(*) and
    # index-only scans) and the search refresh's dead partner rows gone. Servers running with autovacuum off (this
    # project's CI) never do that by themselves. Inside a transaction (tests) vacuum_analyze can only ANALYZE.
    started = time.monotonic()
    vacuum_analyze(*models, StatusChange)
    progress(f"VACUUM (ANALYZE) of the tables written in {time.monotonic() - started:.1f} s")
    return summary


def demo_clear() -> None:
    """Delete all partners and everything hanging off them — customers and their tickets too (not users, tiers,
    parameters, customer segments or service levels; attachment files stay in storage): one TRUNCATE, CASCADE taking
    the later apps' tables that point at partners or leads (the portal's, the library's). The partner users are
    ``devtools.demo_portal.portal_clear``'s to delete, first (``manage.py seed_demo --replace`` does both)."""
    models = [Achievement, Target, TicketAttachment, TicketStatusChange, TicketComment, Ticket, CustomerContact,
              CustomerLocation, Customer, LeadStageChange, Lead, Activity, ContactPoint, Location, Partner,
              StatusChange, CodeChange, UploadBatch, Insight, TeamAttainment, TeamMover]
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses while deferred checks are pending
        # CASCADE: the tables of later apps that point at partners (a library resource's chosen partners…) go too.
        cursor.execute(f"TRUNCATE {tables} CASCADE")


@contextmanager
def _bulk_load(tables: list[str], progress: Callable[[str], None]) -> Iterator[None]:
    """Drop the tables' non-unique indexes and their foreign keys for the load, then put them back exactly as they
    were (same names and definitions, read from the catalog): Django's migrations see no difference.

    Why (measured): maintaining ~40 secondary indexes row by row costs several times more than building each once
    by sorting (targets' (parameter, period) and set_by indexes: +41 s on 6M rows kept, 7 s rebuilt), and PostgreSQL
    checks foreign keys one row at a time (RI triggers, ~2 per row written, ~180M at 1M partners) where re-adding a
    key validates it with one join (all 24: ~9 s at 100k partners). Unique indexes (primary keys, unique keys) stay:
    the rows arrive in their order, so they are appended to, and they guard the data. Inside the caller's
    transaction: other sessions never see the tables without them.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisunique",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, format('%%I', conname), pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f'",
            [tables],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    progress(f"dropped {len(indexes)} secondary indexes and {len(foreign_keys)} foreign keys for the load")
    yield  # no try/finally: after an error the caller's transaction rolls back, the DDL with it
    with connection.cursor() as cursor:
        started = time.monotonic()
        for _name, definition in indexes:
            cursor.execute(definition)
        progress(f"rebuilt {len(indexes)} indexes in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")  # validates: one join
        progress(f"re-added and validated {len(foreign_keys)} foreign keys in {time.monotonic() - started:.1f} s")


def _compute_generated(today: date, progress: Callable[[str], None]) -> int:
    first = periods.shift(periods.period_start(today, Frequency.MONTHLY), Frequency.MONTHLY, -23)
    progress("computing generated leads and revenue for 24 months (set-based)")
    result = metrics_compute_range(since=first, until=today)
    return sum(result.written.values())


# The first rep's day (issue 11), on a few of their engaged partners: (days from today, hour UTC, minute, mode, kind,
# subject, duration), so Today and the notification bell have content right after seeding.
REP_DAY = [
    (0, 9, 0, "reminder", "task", "Call back about the price list", None),
    (0, 11, 0, "scheduled", "meeting", "Quarterly review", 60),
    (0, 15, 30, "scheduled", "call", "Pipeline check-in", 30),
    (0, 17, 0, "reminder", "task", "Send the signed agreement", None),
    (1, 9, 0, "reminder", "task", "Prepare the training plan", None),
    (1, 10, 30, "scheduled", "meeting", "Onboarding workshop", 90),
    (1, 14, 0, "scheduled", "call", "Follow up on the open leads", 30),
]


def _rep_day(rep, today: date) -> int:
    """Add ``REP_DAY`` for ``rep`` (times relative to today's midnight UTC, like the rest of the data), refresh those
    partners' engagement dates, and mark every planned activity whose time has already passed as notified — as the
    migration that added ``notified_at`` did — except this rep's reminders: the first beat tick notifies those (the
    bell's content) instead of flooding every rep with the seed's past-due rows. Returns the number of rows added."""
    midnight = datetime.combine(today, day_time(0), tzinfo=UTC)
    partners = list(Partner.objects.filter(assigned_to=rep, last_engaged_at__gte=midnight - timedelta(days=44))
                    .order_by("id").values_list("id", flat=True)[:4])
    if not partners:
        return 0
    offices = dict(Location.objects.filter(partner_id__in=partners, is_primary=True).values_list("partner_id", "id"))
    rows = [
        Activity(partner_id=partners[i % len(partners)], kind=kind, mode=mode, status=Activity.Status.PLANNED,
                 subject=subject, start_at=midnight + timedelta(days=days, hours=hour, minutes=minute),
                 duration_minutes=duration, owner=rep,
                 location_id=offices.get(partners[i % len(partners)]) if kind == "meeting" else None)
        for i, (days, hour, minute, mode, kind, subject, duration) in enumerate(REP_DAY)
    ]
    Activity.objects.bulk_create(rows)
    partners_engagement_refresh_all(partner_ids=partners)
    keep = [row.pk for row in rows if row.mode == Activity.Mode.REMINDER]
    Activity.objects.filter(status=Activity.Status.PLANNED, notified_at=None, start_at__lt=datetime.now(UTC)).exclude(
        pk__in=keep).update(notified_at=datetime.now(UTC))
    return len(rows)


def _users(partner_count: int) -> tuple[list, object]:
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


def _parameters() -> dict[str, Parameter]:
    params = {p.code: p for p in Parameter.objects.all()}
    if TRAININGS not in params:
        params[TRAININGS] = Parameter.objects.create(
            code=TRAININGS, name="Trainings completed", unit="count", frequency=Frequency.QUARTERLY,
            source=Parameter.Source.UPLOADED, order=10,
            description="Partner staff trainings completed, uploaded quarterly by the enablement team.",
        )
    return params


def _segments() -> tuple[list[int | None], list[int | None]]:
    """The segments of ``SEGMENT_MIX`` (created through ``leads.customer_services.segment_save`` when missing; an
    existing one keeps its frequency) as two arrays in its order: segment ids (None: no segment) and their frequency in
    days (for no segment: the default segment's, None when there is no default — those customers have no due date)."""
    default = CustomerSegment.objects.filter(is_default=True).first()
    ids, days = [], []
    for name, every, _share in SEGMENT_MIX:
        if name is None:
            ids.append(None)
            days.append(default.engage_every_days if default else None)
            continue
        segment = CustomerSegment.objects.filter(name=name).first()
        if segment is None:
            segment = segment_save(segment=CustomerSegment(name=name, engage_every_days=every))
        ids.append(segment.pk)
        days.append(segment.engage_every_days)
    return ids, days


def _service_levels() -> tuple[list[int], list[int]]:
    """First response and resolution minutes per ``TICKET_PRIORITIES`` (the ServiceLevel rows, else the defaults)."""
    levels = {level.priority: (level.first_response_minutes, level.resolution_minutes)
              for level in ServiceLevel.objects.all()}
    minutes = [levels.get(priority, DEFAULT_LEVELS[priority]) for priority in TICKET_PRIORITIES]
    return [first for first, _ in minutes], [resolution for _, resolution in minutes]


def _sql_params(*, partners: int, seed: int, today: date, rep_ids: list[int]) -> dict:
    """The parameters every statement shares (the chunk's ``lo``/``hi`` partner numbers are added per statement)."""
    tiers = {tier.name: tier for tier in Tier.objects.all()}
    names = [name for name, _ in TIER_MIX]
    params = _parameters()
    month = periods.period_start(today, Frequency.MONTHLY)
    quarter = periods.period_start(today, Frequency.QUARTERLY)
    targets = [(params[code].id, periods.shift(month, Frequency.MONTHLY, offset), code)
               for offset in range(-11, 2) for code in (Parameter.LEADS_GENERATED, Parameter.REVENUE)]
    targets += [(params[TRAININGS].id, periods.shift(quarter, Frequency.QUARTERLY, offset), TRAININGS)
                for offset in range(-3, 1)]
    anchor = datetime.combine(today, day_time(0), tzinfo=UTC)
    segment_ids, segment_days = _segments()
    first_response, resolution = _service_levels()
    return {
        "seed": seed,
        "anchor": anchor,
        "epoch": anchor.timestamp(),
        "partners": partners,
        # Ids computed from the partner number, so that rows of other tables point at them without reading them.
        "partner_base": Partner.objects.aggregate(m=Max("id"))["m"] or 0,
        "location_base": Location.objects.aggregate(m=Max("id"))["m"] or 0,
        "tier_ids": [tiers[name].id for name in names],
        "tier_every": [tiers[name].engage_every_days for name in names],
        "tier_leads": [LEADS_PER_TWO_YEARS[name] for name in names],
        "tier_deal": [DEAL_SIZE[name] for name in names],
        "reps": rep_ids,
        "adjectives": ADJECTIVES, "nouns": NOUNS, "suffixes": SUFFIXES,
        "first_names": FIRST_NAMES, "last_names": LAST_NAMES, "streets": STREETS, "outcomes": OUTCOMES,
        "lost_reasons": LOST_REASONS,
        "cities": [c for c, _, _ in CITIES], "lats": [lat for _, lat, _ in CITIES], "lngs": [lng for _, _, lng in CITIES],
        "stretch": max(1.0, partners / FULL_HISTORY_PARTNERS),
        "lead_scale": min(1.0, LEAD_CAP_PARTNERS / partners),
        "target_params": [p for p, _, _ in targets],
        "target_periods": [d for _, d, _ in targets],
        "target_codes": [c for _, _, c in targets],
        "trainings_id": params[TRAININGS].id,
        "trainings_done": [periods.shift(quarter, Frequency.QUARTERLY, offset) for offset in range(-3, 0)],
        # Customers and tickets (issue 13). The first customer/ticket ids of the seed are set by demo_seed.
        "segment_ids": segment_ids, "segment_days": segment_days,
        "customer_outcomes": CUSTOMER_OUTCOMES,
        "priorities": TICKET_PRIORITIES, "first_response_minutes": first_response, "resolution_minutes": resolution,
        "ticket_subjects": TICKET_SUBJECTS, "ticket_descriptions": TICKET_DESCRIPTIONS,
        "ticket_replies": TICKET_REPLIES, "ticket_resolutions": TICKET_RESOLUTIONS, "ticket_notes": TICKET_NOTES,
    }


# --- SQL ----------------------------------------------------------------------------------------------------------------
# Every random value is _u(key, salt): a hash of a row key and a salt under the seed. Salts are unique per use, so
# fields are independent; a value needed by two statements (a partner's last activity) is the same expression in both.


def _u(key: str, salt: int) -> str:
    """SQL: a uniform float8 in [0, 1) from the bigint SQL expression ``key``, ``salt`` and the seed (52 hash bits)."""
    return (f"((hashint8extended({key}, %(seed)s::bigint * 1000 + {salt}) & 4503599627370495)::float8"
            " / 4503599627370496.0)")


def _int(key: str, salt: int, low: int, high: int) -> str:
    """SQL: a uniform integer in [low, high]."""
    return f"({low} + floor({_u(key, salt)} * {high - low + 1})::int)"


def _pick(array: str, values: list, key: str, salt: int) -> str:
    """SQL: one element of the text[] parameter ``array`` (the Python list ``values``), uniformly."""
    return f"(%({array})s::text[])[{_int(key, salt, 1, len(values))}]"


def _weighted(choices: list[tuple[str, int]], key: str, salt: int) -> str:
    """SQL: one of ``choices`` (value, weight) by weight, with one hash: an index into an inline array that holds
    each value weight/gcd times."""
    unit = math.gcd(*(weight for _, weight in choices))
    values = [repr(str(value)) for value, weight in choices for _ in range(weight // unit)]
    return f"(ARRAY[{', '.join(values)}])[{_int(key, salt, 1, len(values))}]"


def _at(seconds: str) -> str:
    """SQL: the timestamp ``seconds`` (a float8 SQL expression) after today's midnight (before, when negative).

    Plain epoch arithmetic: cheaper per row than timestamptz ± interval, and exact for whole seconds."""
    return f"to_timestamp(%(epoch)s::float8 + ({seconds}))"


def _activity_key(n: str, k: str) -> str:
    return f"(({n})::bigint * 4096 + {k})"


def _past_seconds(n: str, k: str, days_ago: str) -> str:
    """SQL: when the k-th latest done activity of partner n happened, in seconds from today's midnight:
    ``days_ago`` days before, at 9:00–17:45 on a quarter hour."""
    key = _activity_key(n, k)
    return f"(-86400 * ({days_ago}) + 3600 * {_int(key, 30, 9, 17)} + 900 * {_int(key, 31, 0, 3)})"


def _planned_at(n: str, i: str) -> str:
    """SQL: when the i-th planned call/meeting of partner n is: 1–20 days ahead, 9:00–16:00."""
    key = _activity_key(n, f"1000 + {i}")
    return _at(f"86400 * {_int(key, 32, 1, 20)} + 3600 * {_int(key, 33, 9, 16)}")


def _customer_key(m: str, k: str) -> str:
    """The key of the k-th activity (or ticket) of customer number m: apart from the partners' keys by the salts."""
    return f"(({m})::bigint * 64 + {k})"


def _customer_past_seconds(m: str, k: str, days_ago: str) -> str:
    """SQL: when the k-th latest done engagement of customer m happened, in seconds from today's midnight: ``days_ago``
    days before, at 9:00–17:45 on a quarter hour."""
    key = _customer_key(m, k)
    return f"(-86400 * ({days_ago}) + 3600 * {_int(key, 73, 9, 17)} + 900 * {_int(key, 74, 0, 3)})"


def _customer_story(m: str, created: str) -> str:
    """SQL: the LATERAL subqueries (cs0…cs3) saying how customer number ``m`` (its id minus the seed's first id),
    created at ``created`` (a timestamptz expression), is engaged: its segment (``segment_id``, ``every``: its days,
    NULL without a due date; ``rhythm``: the days its engagements follow), ``created_sec`` (seconds from today's
    midnight), ``neglected`` (20%: the latest engagement 1–3× its frequency ago), ``d0`` (days since the latest),
    ``planned`` (a planned call/meeting ahead), ``last_at`` (the latest done engagement, NULL when that would be before
    the customer existed: it has none) and ``next_at``. The customer's INSERT and its activities' both use it, so the
    stored dates are what the activities say (no pass over them)."""
    segment = _weighted([(str(i), share) for i, (_, _, share) in enumerate(SEGMENT_MIX, start=1)], m, 70)
    return f"""
CROSS JOIN LATERAL (SELECT {segment}::int AS s, {_u(m, 71)} < 0.2 AS neglected,
                           extract(epoch FROM {created})::float8 - %(epoch)s::float8 AS created_sec) cs0
CROSS JOIN LATERAL (SELECT (%(segment_ids)s::bigint[])[cs0.s] AS segment_id, (%(segment_days)s::int[])[cs0.s] AS every,
                           coalesce((%(segment_days)s::int[])[cs0.s], 30) AS rhythm) cs1
CROSS JOIN LATERAL (SELECT
    CASE WHEN cs0.neglected THEN cs1.rhythm + 1 + floor({_u(m, 72)} * 2 * cs1.rhythm)::int
         ELSE 1 + floor({_u(m, 72)} * greatest(1, floor(cs1.rhythm * 0.9::float8)))::int END AS d0,
    NOT cs0.neglected AND {_u(m, 75)} < 0.4 AS planned) cs2
CROSS JOIN LATERAL (SELECT
    CASE WHEN {_at(_customer_past_seconds(m, '0', 'cs2.d0'))} > {created}
         THEN {_at(_customer_past_seconds(m, '0', 'cs2.d0'))} END AS last_at,
    CASE WHEN cs2.planned THEN {_at(f"86400 * {_int(m, 76, 1, 20)} + 3600 * {_int(m, 77, 9, 16)}")} END AS next_at) cs3
"""  # noqa: S608 (constants and %(params)s only)


# One row per partner number n in [lo, hi] with what the other statements derive from it (alias p). OFFSET 0 keeps
# it a subquery, so each partner's attributes are computed once, not once per activity or lead row that uses them
# (the planner drops the columns a statement does not use).
PARTNERS = f"""(
    SELECT g.n, %(partner_base)s + g.n AS id, %(location_base)s + g.n AS location_id, a.individual, a.neglected,
           a.rep_id, a.name, a.created, b.every, b.tier_id, b.leads_2y, b.deal, c.d0, c.planned,
           -- Its monthly targets: leads (the tier's monthly rate × 1–1.6, at least 1), revenue (0.3 × the tier's
           -- monthly deal flow × 0.8–1.5, in hundreds).
           greatest(1, round(b.leads_2y / 24::float8 * (1 + 0.6 * {_u('g.n', 60)})))::numeric AS leads_target,
           round((b.deal * b.leads_2y / 24::float8 * 0.3 * (0.8 + 0.7 * {_u('g.n', 61)}))::numeric, -2)
               AS revenue_target,
           {_at(_past_seconds('g.n', '0', 'c.d0'))} AS last_at,
           LEAST(CASE WHEN c.planned >= 1 THEN {_planned_at('g.n', '1')} END,
                 CASE WHEN c.planned >= 2 THEN {_planned_at('g.n', '2')} END) AS next_at
    FROM generate_series(%(lo)s, %(hi)s) AS g(n)
    CROSS JOIN LATERAL (SELECT
        {_weighted([(str(i), w) for i, (_, w) in enumerate(TIER_MIX, start=1)], 'g.n', 1)}::int AS tier,
        {_u('g.n', 2)} < 0.2 AS individual,
        {_u('g.n', 3)} < 0.15 AS neglected,
        (%(reps)s::bigint[])[1 + floor({_u('g.n', 4)} * cardinality(%(reps)s::bigint[]))::int] AS rep_id,
        CASE WHEN {_u('g.n', 2)} < 0.2
             THEN {_pick('first_names', FIRST_NAMES, 'g.n', 5)} || ' ' || {_pick('last_names', LAST_NAMES, 'g.n', 6)}
             ELSE {_pick('adjectives', ADJECTIVES, 'g.n', 7)} || ' ' || {_pick('nouns', NOUNS, 'g.n', 8)} || ' '
                  || {_pick('suffixes', SUFFIXES, 'g.n', 9)} END AS name,
        {_at(f"-86400 * ({HISTORY_DAYS} + {_int('g.n', 10, 0, 364)})")} AS created
    ) a
    CROSS JOIN LATERAL (SELECT
        (%(tier_every)s::int[])[a.tier] AS every, (%(tier_ids)s::bigint[])[a.tier] AS tier_id,
        (%(tier_leads)s::int[])[a.tier] AS leads_2y, (%(tier_deal)s::int[])[a.tier] AS deal
    ) b
    CROSS JOIN LATERAL (SELECT
        -- Days since the latest done activity: within the tier's frequency, or 45–119 for a neglected partner.
        CASE WHEN a.neglected THEN {_int('g.n', 11, 45, 119)}
             ELSE 1 + floor({_u('g.n', 12)} * greatest(1, floor(b.every * 0.9::float8)))::int END AS d0,
        -- Planned calls/meetings: none for a neglected partner, else 0, 1, 1 or 2.
        CASE WHEN a.neglected THEN 0 ELSE (ARRAY[0, 1, 1, 2])[{_int('g.n', 13, 1, 4)}] END AS planned
    ) c
    OFFSET 0
) p"""  # noqa: S608 (constants and %(params)s only)

PARTNERS_SQL = f"""
INSERT INTO partners_partner (id, code, name, kind, tier_id, status, status_reason, status_set_by, status_changed_at,
    assigned_to_id, business_potential, website, notes, profile, last_engaged_at, next_engagement_at,
    engagement_due_at, created_at, updated_at, search_document)
SELECT p.id, 'DEMO-' || lpad(p.n::text, greatest(6, length(p.n::text)), '0'), p.name,
       CASE WHEN p.individual THEN 'individual' ELSE 'organisation' END, p.tier_id, 'active', '', 'rule', p.created,
       p.rep_id, p.deal * p.leads_2y / 2, '', '', '{{}}'::jsonb,
       -- The denormalised engagement dates, as activities.services computes them: the latest done activity (every
       -- partner has one), the earliest planned call/meeting, and the latest + the tier's frequency.
       p.last_at, p.next_at, p.last_at + p.every * interval '1 day', p.created, p.created, ''
FROM {PARTNERS}
"""  # noqa: S608 (constants and %(params)s only)

CONTACTS_SQL = f"""
INSERT INTO partners_contactpoint (id, partner_id, kind, value, label, is_primary)
SELECT %(contacts_base)s + row_number() OVER (), p.id, c.kind, c.value, c.label, c.is_primary
FROM {PARTNERS}
CROSS JOIN LATERAL (SELECT '+91 98' || {_int('p.n', 14, 10_000_000, 99_999_999)} AS phone,
                           lower(replace(p.name, ' ', '.')) AS slug) s
-- In (partner, kind) order, so the unique index of primaries is appended to.
CROSS JOIN LATERAL (VALUES
    ('email', s.slug || '@example.com', '', true, true),
    ('email', 'accounts.' || s.slug || '@example.com', 'Accounts', false, {_u('p.n', 17)} < 0.3),
    ('mobile', s.phone, 'Owner', true, true),
    ('phone', '+91 80 ' || {_int('p.n', 15, 10_000_000, 99_999_999)}, 'Office', true, {_u('p.n', 16)} < 0.5),
    ('whatsapp', s.phone, '', true, true)
) AS c(kind, value, label, is_primary, present)
WHERE c.present
"""  # noqa: S608 (constants and %(params)s only)

# The primary location's id is location_base + n (activities point at it); a branch takes location_base + partners + n.
_LOCATION_KEY = "(p.n::bigint * 2 + l.k)"
LOCATIONS_SQL = f"""
INSERT INTO partners_location (id, partner_id, label, address, latitude, longitude, is_primary)
SELECT CASE WHEN l.k = 0 THEN p.location_id ELSE p.location_id + %(partners)s END, p.id,
       CASE WHEN l.k = 0 THEN 'Head office' ELSE 'Branch' END,
       {_int(_LOCATION_KEY, 18, 1, 399)} || ' ' || {_pick('streets', STREETS, _LOCATION_KEY, 19)} || ', ' || x.city,
       round((x.lat + 0.1 * {_u(_LOCATION_KEY, 20)} - 0.05)::numeric, 6),
       round((x.lng + 0.1 * {_u(_LOCATION_KEY, 21)} - 0.05)::numeric, 6), l.k = 0
FROM {PARTNERS}
CROSS JOIN LATERAL (SELECT {_int('p.n', 22, 1, len(CITIES))} AS i) ci
CROSS JOIN LATERAL (SELECT (%(cities)s::text[])[ci.i] AS city, (%(lats)s::float8[])[ci.i] AS lat,
                           (%(lngs)s::float8[])[ci.i] AS lng) x
CROSS JOIN generate_series(0, 1) AS l(k)
WHERE l.k = 0 OR {_u('p.n', 23)} < 0.3
"""  # noqa: S608 (constants and %(params)s only)

# Past done activities of partner n, k = 0 the latest (d0 days ago): the k-th is (2.1k + 0–0.9) × the tier's
# frequency × stretch days before it (gaps of 1.2–3× the frequency), as long as it is within two years.
_ACTIVITY_KEY = _activity_key("p.n", "k")
_PAST = f"""
FROM {PARTNERS}
CROSS JOIN LATERAL generate_series(
    0, floor(({HISTORY_DAYS} - p.d0) / (2.1::float8 * p.every * %(stretch)s::float8))::int) AS k
CROSS JOIN LATERAL (SELECT p.d0 + CASE WHEN k = 0 THEN 0 ELSE
    floor(p.every * %(stretch)s::float8 * (2.1::float8 * k + 0.9 * {_u(_ACTIVITY_KEY, 34)}))::int END AS days_ago) d
CROSS JOIN LATERAL (SELECT {_past_seconds('p.n', 'k', 'd.days_ago')} AS seconds,
                           {_weighted(PAST_KINDS, _ACTIVITY_KEY, 35)} AS kind) x
CROSS JOIN LATERAL (SELECT CASE WHEN x.kind = 'call' THEN (ARRAY[10, 15, 20, 30])[{_int(_ACTIVITY_KEY, 36, 1, 4)}]
                           ELSE (ARRAY[30, 45, 60, 90])[{_int(_ACTIVITY_KEY, 36, 1, 4)}] END AS duration) y
WHERE d.days_ago < {HISTORY_DAYS}"""  # noqa: S608 (constants and %(params)s only)

ACTIVITIES_SQL = f"""
INSERT INTO activities_activity (id, partner_id, kind, mode, status, subject, start_at, duration_minutes,
    location_id, place, owner_id, outcome, completed_at, created_at, updated_at)
SELECT %(activities_base)s + row_number() OVER (), a.* FROM (
SELECT p.id, x.kind,
       CASE WHEN x.kind IN ('call', 'meeting') AND {_u(_ACTIVITY_KEY, 37)} < 0.4 THEN 'scheduled' ELSE 'logged' END,
       'done', '', {_at('x.seconds')}, y.duration, CASE WHEN x.kind IN ('meeting', 'visit') THEN p.location_id END,
       '', p.rep_id, {_pick('outcomes', OUTCOMES, _ACTIVITY_KEY, 38)}, {_at('x.seconds + 60 * y.duration')},
       {_at('x.seconds')}, {_at('x.seconds')}
{_PAST}
UNION ALL  -- a meeting that was called off, two days before 4%% of the done ones
SELECT p.id, 'meeting', 'scheduled', 'cancelled', 'Quarterly review', {_at('x.seconds - 2 * 86400')}, 60,
       p.location_id, '', p.rep_id, 'Partner rescheduled.', NULL, {_at('x.seconds')}, {_at('x.seconds')}
{_PAST} AND {_u(_ACTIVITY_KEY, 39)} < 0.04
UNION ALL  -- planned calls and meetings (the partner's next_engagement_at is the earliest)
SELECT p.id, x.kind, 'scheduled', 'planned', initcap(x.kind) || ': pipeline review', {_planned_at('p.n', 'i')},
       CASE WHEN x.kind = 'call' THEN 30 ELSE 60 END, CASE WHEN x.kind = 'meeting' THEN p.location_id END, '',
       p.rep_id, '', NULL, %(anchor)s, %(anchor)s
FROM {PARTNERS}
CROSS JOIN LATERAL generate_series(1, p.planned) AS i
CROSS JOIN LATERAL (SELECT CASE WHEN {_u(_activity_key('p.n', '1000 + i'), 40)} < 0.5 THEN 'call' ELSE 'meeting' END
                    AS kind) x
UNION ALL  -- a reminder (mode 'reminder': not an engagement) for 40%% of partners
SELECT p.id, 'task', 'reminder', 'planned', 'Send the updated price list',
       {_at(f"86400 * {_int('p.n', 41, 0, 9)} + 8 * 3600")}, NULL, NULL, '', p.rep_id, '', NULL, %(anchor)s, %(anchor)s
FROM {PARTNERS}
WHERE {_u('p.n', 42)} < 0.4
) a
"""  # noqa: S608 (constants and %(params)s only)

# Leads of partner n, k = 1..count; their stage-change rows and the customers of won ones are written from the
# inserted rows in the same statement (RETURNING), which also answers the three row counts.
_LEAD_KEY = _activity_key("p.n", "k")
LEADS_SQL = f"""
WITH new_lead AS (
    INSERT INTO leads_lead (id, name, company, email, phone, partner_id, assigned_to_id, stage, expected_value,
        value, created_at, converted_at, lost_at, lost_reason, updated_at, last_touched_at)
    SELECT %(leads_base)s + row_number() OVER (), x.first || ' ' || x.last, x.last || ' & Co', lower(x.first) || '.' || lower(x.last) || '@example.net', '',
           p.id, p.rep_id, s.stage, x.expected,
           CASE WHEN s.stage = 'won' THEN round(x.expected * round((0.7 + 0.5 * {_u(_LEAD_KEY, 50)})::numeric, 2)) END,
           {_at('-x.age')}, CASE WHEN s.stage = 'won' THEN {_at('x.closed')} END,
           CASE WHEN s.stage = 'lost' THEN {_at('x.closed')} END,
           CASE WHEN s.stage = 'lost' THEN {_pick('lost_reasons', LOST_REASONS, _LEAD_KEY, 58)} ELSE '' END,
           CASE WHEN s.stage IN ('won', 'lost') THEN {_at('x.closed')} ELSE {_at('-x.age')} END,
           CASE WHEN s.stage IN ('won', 'lost') THEN {_at('x.closed')} ELSE {_at('-x.age')} END  -- last touch
    FROM {PARTNERS}
    CROSS JOIN LATERAL generate_series(
        1, floor({_u('p.n', 51)} * (2 * p.leads_2y + 1) * %(lead_scale)s::float8)::int) AS k
    CROSS JOIN LATERAL (SELECT
        -- age: seconds since creation (up to two years); closed: 5–60 days after creation, in the past.
        {_u(_LEAD_KEY, 52)} * {HISTORY_DAYS * 86400} AS age,
        least(-{_u(_LEAD_KEY, 52)} * {HISTORY_DAYS * 86400} + (5 + 55 * {_u(_LEAD_KEY, 56)}) * 86400, -60) AS closed,
        {_pick('first_names', FIRST_NAMES, _LEAD_KEY, 53)} AS first,
        {_pick('last_names', LAST_NAMES, _LEAD_KEY, 54)} AS last,
        floor(p.deal * (0.3 + 1.5 * {_u(_LEAD_KEY, 55)}))::numeric AS expected
    ) x
    CROSS JOIN LATERAL (SELECT CASE WHEN x.age >= 91 * 86400
        THEN {_weighted([("won", 30), ("lost", 45), ("qualified", 10), ("contacted", 10), ("new", 5)], _LEAD_KEY, 57)}
        ELSE {_weighted([("new", 40), ("contacted", 30), ("qualified", 15), ("won", 10), ("lost", 5)], _LEAD_KEY, 57)}
        END AS stage) s
    RETURNING id, name, company, email, phone, partner_id, assigned_to_id, stage, created_at, converted_at, lost_at
), history AS (
    INSERT INTO leads_leadstagechange (id, lead_id, from_stage, to_stage, changed_by_id, changed_at)
    SELECT %(stage_changes_base)s + row_number() OVER (), h.* FROM (
        SELECT id, '', 'new', assigned_to_id, created_at FROM new_lead
        UNION ALL
        SELECT id, 'new', stage, assigned_to_id, coalesce(converted_at, lost_at, created_at) FROM new_lead
        WHERE stage <> 'new'
    ) h
    RETURNING 1
), customer AS (
    INSERT INTO leads_customer (id, name, company, email, phone, website, description, segment_id, lead_id, partner_id,
        assigned_to_id, last_engaged_at, next_engagement_at, engagement_due_at, created_at, updated_at)
    SELECT c.id, c.name, c.company, c.email, c.phone, '', '', cs1.segment_id, c.lead_id, c.partner_id, c.assigned_to_id,
           cs3.last_at, cs3.next_at, coalesce(cs3.last_at, c.converted_at) + cs1.every * interval '1 day',
           c.converted_at, c.converted_at
    FROM (SELECT %(customers_base)s + row_number() OVER () AS id, name, company, email, phone, id AS lead_id,
                 partner_id, assigned_to_id, converted_at
          FROM new_lead WHERE stage = 'won') c
    {_customer_story('c.id - %(customers_first)s', 'c.converted_at')}
    RETURNING 1
)
SELECT (SELECT count(*) FROM new_lead), (SELECT count(*) FROM history), (SELECT count(*) FROM customer)
"""  # noqa: S608 (constants and %(params)s only)

# Direct customers (no lead): 1–5 for 10% of partners, created in the last two years, a fifth of them with no partner
# (still followed by the partner's rep).
_DIRECT_KEY = _activity_key("p.n", "2000 + k")
DIRECT_CUSTOMERS_SQL = f"""
INSERT INTO leads_customer (id, name, company, email, phone, website, description, segment_id, lead_id, partner_id,
    assigned_to_id, last_engaged_at, next_engagement_at, engagement_due_at, created_at, updated_at)
SELECT c.id, c.name, c.company, c.email, c.phone, '', '', cs1.segment_id, NULL, c.partner_id, c.rep_id, cs3.last_at,
       cs3.next_at, coalesce(cs3.last_at, c.created) + cs1.every * interval '1 day', c.created, c.created
FROM (
    SELECT %(customers_base)s + row_number() OVER () AS id, x.first || ' ' || x.last AS name,
           x.last || ' ' || {_pick('suffixes', SUFFIXES, _DIRECT_KEY, 84)} AS company,
           lower(x.first) || '.' || lower(x.last) || '@example.org' AS email,
           '+91 97' || {_int(_DIRECT_KEY, 85, 10_000_000, 99_999_999)} AS phone,
           CASE WHEN {_u(_DIRECT_KEY, 86)} < 0.2 THEN NULL ELSE p.id END AS partner_id, p.rep_id,
           {_at(f"-60 - {_u(_DIRECT_KEY, 87)} * {HISTORY_DAYS * 86400}")} AS created
    FROM {PARTNERS}
    CROSS JOIN LATERAL generate_series(1, CASE WHEN {_u('p.n', 80)} < 0.1 THEN {_int('p.n', 81, 1, 5)} ELSE 0 END) AS k
    CROSS JOIN LATERAL (SELECT {_pick('first_names', FIRST_NAMES, _DIRECT_KEY, 82)} AS first,
                               {_pick('last_names', LAST_NAMES, _DIRECT_KEY, 83)} AS last) x
) c
{_customer_story('c.id - %(customers_first)s', 'c.created')}
"""  # noqa: S608 (constants and %(params)s only)

# One row per customer of this seed with an id in [lo, hi] and its engagement story (alias c), as PARTNERS.
CUSTOMERS = f"""(
    SELECT c.id, c.id - %(customers_first)s AS m, c.assigned_to_id AS rep_id, c.name, c.email, c.created_at,
           cs0.created_sec, cs1.rhythm, cs2.d0, cs2.planned, cs3.next_at
    FROM leads_customer c
    {_customer_story('c.id - %(customers_first)s', 'c.created_at')}
    WHERE c.id BETWEEN %(lo)s AND %(hi)s
    OFFSET 0
) c"""  # noqa: S608 (constants and %(params)s only)

CUSTOMER_CONTACTS_SQL = f"""
INSERT INTO leads_customercontact (id, customer_id, kind, value, label, is_primary)
SELECT %(customer_contacts_base)s + row_number() OVER (), c.id, v.kind, v.value, v.label, v.is_primary
FROM {CUSTOMERS}
CROSS JOIN LATERAL (SELECT '+91 99' || {_int('c.m', 100, 10_000_000, 99_999_999)} AS mobile,
                           lower(replace(c.name, ' ', '.')) AS slug) s
-- In (customer, kind) order, so the unique index of primaries is appended to.
CROSS JOIN LATERAL (VALUES
    ('email', coalesce(nullif(c.email, ''), s.slug || '@example.org'), '', true, true),
    ('email', 'accounts.' || s.slug || '@example.org', 'Accounts', false, {_u('c.m', 101)} < 0.15),
    ('mobile', s.mobile, '', true, {_u('c.m', 102)} < 0.7),
    ('phone', '+91 80 ' || {_int('c.m', 103, 10_000_000, 99_999_999)}, 'Office', true, {_u('c.m', 104)} < 0.4)
) AS v(kind, value, label, is_primary, present)
WHERE v.present
"""  # noqa: S608 (constants and %(params)s only)

CUSTOMER_LOCATIONS_SQL = f"""
INSERT INTO leads_customerlocation (id, customer_id, label, address, latitude, longitude, is_primary)
SELECT %(customer_locations_base)s + row_number() OVER (), c.id, 'Office',
       {_int('c.m', 106, 1, 399)} || ' ' || {_pick('streets', STREETS, 'c.m', 107)} || ', ' || x.city,
       round((x.lat + 0.1 * {_u('c.m', 108)} - 0.05)::numeric, 6),
       round((x.lng + 0.1 * {_u('c.m', 109)} - 0.05)::numeric, 6), true
FROM {CUSTOMERS}
CROSS JOIN LATERAL (SELECT {_int('c.m', 110, 1, len(CITIES))} AS i) ci
CROSS JOIN LATERAL (SELECT (%(cities)s::text[])[ci.i] AS city, (%(lats)s::float8[])[ci.i] AS lat,
                           (%(lngs)s::float8[])[ci.i] AS lng) x
WHERE {_u('c.m', 111)} < 0.4
"""  # noqa: S608 (constants and %(params)s only)

# A customer's done engagements, k = 0 the latest (d0 days ago, the customer's last_engaged_at), each older one
# (2.1k + 0–0.9) × its rhythm days before that, none before the customer was created; and its planned call/meeting.
_CUSTOMER_ACTIVITY_KEY = _customer_key("c.m", "k")
CUSTOMER_ACTIVITIES_SQL = f"""
INSERT INTO activities_activity (id, partner_id, customer_id, kind, mode, status, subject, start_at, duration_minutes,
    location_id, place, owner_id, outcome, completed_at, created_at, updated_at)
SELECT %(activities_base)s + row_number() OVER (), a.* FROM (
SELECT NULL::bigint, c.id, x.kind,
       CASE WHEN x.kind IN ('call', 'meeting') AND {_u(_CUSTOMER_ACTIVITY_KEY, 112)} < 0.4 THEN 'scheduled'
            ELSE 'logged' END,
       'done', '', {_at('x.seconds')}, y.duration, NULL::bigint, '', c.rep_id,
       {_pick('customer_outcomes', CUSTOMER_OUTCOMES, _CUSTOMER_ACTIVITY_KEY, 113)},
       {_at('x.seconds + 60 * y.duration')}, {_at('x.seconds')}, {_at('x.seconds')}
FROM {CUSTOMERS}
CROSS JOIN LATERAL generate_series(0, 2) AS k
CROSS JOIN LATERAL (SELECT c.d0 + CASE WHEN k = 0 THEN 0 ELSE
    floor(c.rhythm * (2.1::float8 * k + 0.9 * {_u(_CUSTOMER_ACTIVITY_KEY, 114)}))::int END AS days_ago) d
CROSS JOIN LATERAL (SELECT {_customer_past_seconds('c.m', 'k', 'd.days_ago')} AS seconds,
                           {_weighted(PAST_KINDS, _CUSTOMER_ACTIVITY_KEY, 115)} AS kind) x
CROSS JOIN LATERAL (SELECT (CASE WHEN x.kind = 'call' THEN ARRAY[10, 15, 20, 30] ELSE ARRAY[30, 45, 60, 90] END)
                           [{_int(_CUSTOMER_ACTIVITY_KEY, 116, 1, 4)}] AS duration) y
WHERE d.days_ago < {HISTORY_DAYS} AND {_at('x.seconds')} > c.created_at
UNION ALL  -- the planned call/meeting (the customer's next_engagement_at)
SELECT NULL::bigint, c.id, x.kind, 'scheduled', 'planned', 'Account review', c.next_at,
       CASE WHEN x.kind = 'call' THEN 30 ELSE 60 END, NULL::bigint, '', c.rep_id, '', NULL, %(anchor)s, %(anchor)s
FROM {CUSTOMERS}
CROSS JOIN LATERAL (SELECT CASE WHEN {_u('c.m', 117)} < 0.6 THEN 'call' ELSE 'meeting' END AS kind) x
WHERE c.planned
) a
"""  # noqa: S608 (constants and %(params)s only)

# Tickets of customer c, j = 1..count, with their comments and (the last TICKET_HISTORY_DAYS) status history from the
# inserted rows (RETURNING), as LEADS_SQL. Times in seconds from today's midnight: ``age`` before it the ticket was
# created (within the customer's life; running ones within 1.5× their service level, paused ones 30 days), ``fr`` /
# ``rs`` the first response / resolution minutes of its priority in seconds. Each LATERAL level ends with OFFSET 0, so
# it is computed once per ticket: flattened, every use of a column re-evaluates its whole expression, and the final
# columns use the earlier ones many times (measured: 11 s → 3.4 s for 106k tickets and their 336k comments/changes).
_TICKET_KEY = _customer_key("c.m", "j")
_COMMENT_KEY = "(t.id - %(tickets_first)s)"
# The tickets whose status history is written: those created in the last TICKET_HISTORY_DAYS.
_RECENT_TICKETS = (
    f"(SELECT * FROM new_ticket WHERE created_at > %(anchor)s - interval '{TICKET_HISTORY_DAYS} days') t"  # noqa: S608
)
TICKETS_SQL = f"""
WITH new_ticket AS (
    INSERT INTO service_ticket (id, customer_id, subject, description, type, priority, status, assignee_id,
        created_by_id, created_at, updated_at, first_response_due_at, resolution_due_at, first_responded_at,
        resolved_at, closed_at, paused_at, paused_total, response_breach_notified_at, resolution_breach_notified_at)
    SELECT %(tickets_base)s + row_number() OVER (), c.id,
           {_pick('ticket_subjects', TICKET_SUBJECTS, _TICKET_KEY, 121)},
           {_pick('ticket_descriptions', TICKET_DESCRIPTIONS, _TICKET_KEY, 122)}, t0.type,
           (%(priorities)s::text[])[t0.pi], t0.status, t0.assignee_id, coalesce(t0.assignee_id, c.rep_id),
           {_at('t1.created')}, {_at('greatest(t1.created, t2.responded, t3.paused, t2.resolved, t3.closed)')},
           {_at('t1.created + t1.fr')}, {_at('t1.created + t1.rs')}, {_at('t2.responded')}, {_at('t2.resolved')},
           {_at('t3.closed')}, {_at('t3.paused')}, interval '0',
           -- A breach that happened while the clock ran, before the seed's midnight: notified (at its due time).
           CASE WHEN t1.created + t1.fr < coalesce(t2.responded, t3.paused, 0) THEN {_at('t1.created + t1.fr')} END,
           CASE WHEN t1.created + t1.rs < coalesce(t2.resolved, t3.paused, 0) THEN {_at('t1.created + t1.rs')} END
    FROM {CUSTOMERS}
    -- 0–7 per two years of the customer's life (~1.7 per customer): more customers, more tickets, as in real life.
    CROSS JOIN LATERAL generate_series(
        1, round(6.8 * least(1, -c.created_sec / {HISTORY_DAYS * 86400}) * {_u('c.m', 120)})::int) AS j
    CROSS JOIN LATERAL (SELECT
        CASE WHEN {_u(_TICKET_KEY, 123)} < 0.15 THEN {_weighted(TICKET_OPEN_MIX, _TICKET_KEY, 124)}
             ELSE {_weighted(TICKET_DONE_MIX, _TICKET_KEY, 124)} END AS status,
        {_weighted(TICKET_PRIORITY_MIX, _TICKET_KEY, 125)}::int AS pi,
        {_weighted(TICKET_TYPES, _TICKET_KEY, 126)} AS type,
        CASE WHEN {_u(_TICKET_KEY, 127)} < 0.9 THEN c.rep_id
             WHEN {_u(_TICKET_KEY, 127)} < 0.97
             THEN (%(reps)s::bigint[])[1 + floor({_u(_TICKET_KEY, 128)} * cardinality(%(reps)s::bigint[]))::int]
             END AS assignee_id
    OFFSET 0) t0
    CROSS JOIN LATERAL (SELECT
        60.0::float8 * (%(first_response_minutes)s::int[])[t0.pi] AS fr,
        60.0::float8 * (%(resolution_minutes)s::int[])[t0.pi] AS rs,
        -- Running ones within 1.5× their (first response, resolution) time: a third of them past it.
        CASE WHEN t0.status = 'new' THEN least(-c.created_sec, 1.5 * 60.0 * (%(first_response_minutes)s::int[])[t0.pi])
             WHEN t0.status = 'open' THEN least(-c.created_sec, 1.5 * 60.0 * (%(resolution_minutes)s::int[])[t0.pi])
             WHEN t0.status IN ('waiting', 'on_hold') THEN least(-c.created_sec, 30 * 86400.0)
             ELSE -c.created_sec END * {_u(_TICKET_KEY, 129)} AS age
    OFFSET 0) a
    CROSS JOIN LATERAL (SELECT -a.age AS created, a.fr, a.rs, a.age OFFSET 0) t1
    CROSS JOIN LATERAL (SELECT
        -- Resolved: 0.1–1.1× the resolution time after creation (10%% late), before now.
        CASE WHEN t0.status IN ('resolved', 'closed')
             THEN t1.created + least(0.9 * t1.age, t1.rs * (0.1 + {_u(_TICKET_KEY, 130)})) END AS resolved,
        -- The first response: 0.1–1.2× its time after creation (~18%% late), before anything that followed.
        CASE WHEN t0.status <> 'new' THEN t1.created + least(
            CASE WHEN t0.status = 'open' THEN 0.9 * t1.age
                 WHEN t0.status IN ('waiting', 'on_hold') THEN 0.5 * t1.age
                 ELSE 0.45 * least(0.9 * t1.age, t1.rs * (0.1 + {_u(_TICKET_KEY, 130)})) END,
            t1.fr * (0.1 + 1.1 * {_u(_TICKET_KEY, 131)})) END AS responded
    OFFSET 0) t2
    CROSS JOIN LATERAL (SELECT
        CASE WHEN t0.status = 'closed'
             THEN t2.resolved + least(86400 * (1 + 6 * {_u(_TICKET_KEY, 132)}), -0.5 * t2.resolved) END AS closed,
        -- The clock stopped: when it went waiting/on hold (after the response, mostly before the resolution was due),
        -- or when it was resolved.
        CASE WHEN t0.status IN ('waiting', 'on_hold')
             THEN t2.responded + least(-0.9 * t2.responded, 0.8 * t1.rs) * {_u(_TICKET_KEY, 133)}
             WHEN t0.status IN ('resolved', 'closed') THEN t2.resolved END AS paused
    OFFSET 0) t3
    RETURNING id, status, assignee_id, created_by_id, created_at, first_responded_at, resolved_at, closed_at, paused_at
), comment AS (
    INSERT INTO service_ticketcomment (id, ticket_id, author_id, body, internal, created_at)
    SELECT %(ticket_comments_base)s + row_number() OVER (), x.* FROM (
        -- the first response: the first public comment
        SELECT t.id, coalesce(t.assignee_id, t.created_by_id),
               {_pick('ticket_replies', TICKET_REPLIES, _COMMENT_KEY, 140)}, false, t.first_responded_at
        FROM new_ticket t WHERE t.first_responded_at IS NOT NULL
        UNION ALL  -- an internal note for 30%%, some time before the clock stopped (or today)
        SELECT t.id, coalesce(t.assignee_id, t.created_by_id), {_pick('ticket_notes', TICKET_NOTES, _COMMENT_KEY, 141)},
               true, t.created_at
                     + (coalesce(t.resolved_at, t.paused_at, %(anchor)s) - t.created_at) * {_u(_COMMENT_KEY, 142)}
        FROM new_ticket t WHERE {_u(_COMMENT_KEY, 143)} < 0.3
        UNION ALL  -- the resolution
        SELECT t.id, coalesce(t.assignee_id, t.created_by_id),
               {_pick('ticket_resolutions', TICKET_RESOLUTIONS, _COMMENT_KEY, 144)}, false, t.resolved_at
        FROM new_ticket t WHERE t.resolved_at IS NOT NULL
    ) x
    RETURNING 1
), history AS (
    INSERT INTO service_ticketstatuschange (id, ticket_id, field, from_value, to_value, note, changed_by_id, changed_at)
    SELECT %(ticket_changes_base)s + row_number() OVER (), h.* FROM (
        SELECT t.id, 'status', '', 'new', '', t.created_by_id, t.created_at FROM {_RECENT_TICKETS}
        UNION ALL
        SELECT t.id, 'status', 'new', 'open', 'First response', coalesce(t.assignee_id, t.created_by_id),
               t.first_responded_at FROM {_RECENT_TICKETS} WHERE t.first_responded_at IS NOT NULL
        UNION ALL
        SELECT t.id, 'status', 'open', t.status, '', coalesce(t.assignee_id, t.created_by_id), t.paused_at
        FROM {_RECENT_TICKETS} WHERE t.status IN ('waiting', 'on_hold')
        UNION ALL
        SELECT t.id, 'status', 'open', 'resolved', '', coalesce(t.assignee_id, t.created_by_id), t.resolved_at
        FROM {_RECENT_TICKETS} WHERE t.resolved_at IS NOT NULL
        UNION ALL
        SELECT t.id, 'status', 'resolved', 'closed', '', coalesce(t.assignee_id, t.created_by_id), t.closed_at
        FROM {_RECENT_TICKETS} WHERE t.closed_at IS NOT NULL
    ) h
    RETURNING 1
)
SELECT (SELECT count(*) FROM new_ticket), (SELECT count(*) FROM comment), (SELECT count(*) FROM history)
"""  # noqa: S608 (constants and %(params)s only)

# Per partner: one monthly leads target and one revenue target (each the same for its 13 months) and 4 quarterly
# trainings targets. Partner-major (the periods in a LATERAL subquery that OFFSET 0 keeps on the inner side of the
# join), so the unique key's index is appended to at its end instead of swept 30 times.
TARGETS_SQL = f"""
INSERT INTO business_target (id, partner_id, parameter_id, period_start, value, updated_at)
SELECT %(targets_base)s + row_number() OVER (), p.id, t.parameter_id, t.period_start, t.value, %(anchor)s
FROM {PARTNERS}
CROSS JOIN LATERAL (
    SELECT t.parameter_id, t.period_start,
           CASE t.code WHEN '{Parameter.LEADS_GENERATED}' THEN p.leads_target
                       WHEN '{Parameter.REVENUE}' THEN p.revenue_target ELSE 4 END AS value
    FROM unnest(%(target_params)s::bigint[], %(target_periods)s::date[], %(target_codes)s::text[])
        AS t(parameter_id, period_start, code)
    OFFSET 0
) t
"""  # noqa: S608 (constants and %(params)s only)

TRAININGS_SQL = f"""
INSERT INTO business_achievement (id, partner_id, parameter_id, period_start, value, source, updated_at)
SELECT %(achievements_base)s + row_number() OVER (), p.id, %(trainings_id)s, q.period_start, q.value, 'upload', %(anchor)s
FROM {PARTNERS}
CROSS JOIN LATERAL (
    SELECT q.period_start, {_int('p.n::bigint * 4 + q.i', 62, 0, 6)} AS value
    FROM unnest(%(trainings_done)s::date[]) WITH ORDINALITY AS q(period_start, i)
    OFFSET 0  -- partner-major, as the targets
) q
"""  # noqa: S608 (constants and %(params)s only)

# (progress label, statement, the Summary fields its row counts go to, per customer chunk), in the order the rows refer
# to each other. A statement numbers its rows of table ``field`` from ``%(<field>_base)s`` (row_number(): dense
# explicit ids, cheaper than the id sequence's nextval per row); partners and locations have ids computed from the
# partner number.
_STEPS = [
    ("partners", PARTNERS_SQL, ["partners"], False),
    ("contact points", CONTACTS_SQL, ["contacts"], False),
    ("locations", LOCATIONS_SQL, ["locations"], False),
    ("activities", ACTIVITIES_SQL, ["activities"], False),
    ("leads, stage changes, customers", LEADS_SQL, ["leads", "stage_changes", "customers"], False),
    ("direct customers", DIRECT_CUSTOMERS_SQL, ["customers"], False),
    ("targets", TARGETS_SQL, ["targets"], False),
    ("uploaded trainings achievements", TRAININGS_SQL, ["achievements"], False),
    # Per chunk of the customers written above (the fourth field: chunked by customer id, not partner number).
    ("customer contacts", CUSTOMER_CONTACTS_SQL, ["customer_contacts"], True),
    ("customer locations", CUSTOMER_LOCATIONS_SQL, ["customer_locations"], True),
    ("customer activities", CUSTOMER_ACTIVITIES_SQL, ["activities"], True),
    ("tickets, comments, status history", TICKETS_SQL, ["tickets", "ticket_comments", "ticket_changes"], True),
]
