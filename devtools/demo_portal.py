"""Demo data of the partner portal (issue 14), on top of ``devtools.demo``'s partners: partner users and their
memberships, deal registrations with their history, the portal feed and a few announcements.

What it generates, per partner (partner number n = its rank by id): ``USERS_PER_PARTNER`` partner users — the first a
partner admin (``partner<n>``), the others members (``partner<n>b``, ``partner<n>c``) — with unusable passwords, except
the admins of the first ``DEMO_LOGINS`` partners, who log in with ``demo.DEMO_PASSWORD`` (``partner1`` …); on
average ``REGISTRATIONS_PER_PARTNER`` deal registrations (500,000 at 100,000 partners), spread over the partners by
a hash, in every status (``STATUS_MIX``), dated by status (a draft or a submitted one is recent, an approved one is
still protected, an expired one's protection ended), submitted by one of the partner's users and reviewed by its rep;
prospects drawn from ~0.8 × as many companies as registrations, so some prospects are registered by two partners
(conflicts exist); their history (``DealEvent``: submitted, then the decision); the feed (``PortalEvent``): the
decisions of the last 30 days, colleagues joining, the latest announcement; ``ANNOUNCEMENTS`` announcements (all
partners, a tier, organisations).

How: as ``devtools.demo`` — set-based ``INSERT … SELECT … FROM generate_series`` with explicit ids, every value a hash
of the seed, a salt and the row's key (``demo._u``), one transaction, the portal tables' secondary indexes and
foreign keys dropped for the load and rebuilt (``demo._bulk_load``; the registrations' trigram index is built once).
Registrations carry no lead (``lead_id`` NULL): the demo's leads come from ``devtools.demo``.

Runs after ``demo.demo_seed`` (``manage.py seed_demo``), or alone on an already seeded database (``manage.py seed_demo
--portal-only``); refuses when partner users exist already. ``portal_clear`` removes it all again (partner users
included), before ``demo.demo_clear`` truncates the partners.

Sizes at 100,000 partners: 300,000 users and memberships, 500,000 registrations, ~0.9M deal events, ~0.3M feed
events.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max

from devtools import demo
from devtools.demo import FIRST_NAMES, LAST_NAMES, NOUNS, _at, _bulk_load, _int, _pick, _u, _weighted
from partners.models import Partner, Tier
from portal.models import (
    AccessRequest,
    Announcement,
    AnnouncementRead,
    DealEvent,
    DealLine,
    DealRegistration,
    Invitation,
    Membership,
    PartnerDomain,
    PortalEvent,
    ProfileUpdate,
    SharedLead,
)
from prm.pg import analyze, reset_sequences, set_local, vacuum_analyze

USERS_PER_PARTNER = 3
REGISTRATIONS_PER_PARTNER = 5
DEMO_LOGINS = 3  # partner1, partner2, partner3 (the admins of the first three partners) use demo.DEMO_PASSWORD
UNUSABLE_PASSWORD = "!demo"  # Django's unusable-password prefix: nobody logs in with it  # noqa: S105
STATUS_MIX = [("draft", 5), ("submitted", 8), ("returned", 3), ("approved", 30), ("rejected", 15),
              ("won_pending", 2), ("won", 17), ("lost", 12), ("expired", 8)]
SYLLABLES = ["ka", "lo", "mi", "ra", "to", "ve", "si", "nu", "pe", "zo", "ta", "ri", "de", "no", "ba", "gu", "le",
             "mo", "xa", "fi", "co", "du", "ne", "pi", "sa", "ti", "vo", "ya", "ze", "ho"]
COMPANY_SUFFIXES = ["GmbH", "Ltd", "Inc", "SA", "BV", "Pvt Ltd", "AG", "LLC", "Srl", "Oy"]
TLDS = ["com", "de", "in", "co.uk", "fr", "nl", "io", "net"]
COUNTRIES = ["DE", "IN", "GB", "FR", "NL", "US", "ES", "IT", "FI", "SE"]
PRODUCTS = ["Printers and toner, 40 seats.", "Network refresh: 12 switches, 3 firewalls.", "Laptops for the sales team.",
            "Managed print service, three sites.", "Storage upgrade and backup.", "Licences for 150 users, 3 years."]
REASONS = ["Already in our pipeline through another partner.", "Customer is a direct key account.",
           "Please add the expected volume and the decision maker."]
ANNOUNCEMENTS = [
    ("New price list for the coming quarter", "The new price list is in the library, valid from the 1st.", True, None),
    ("Webinar: selling managed print", "Thursday 10:00 CET, 45 minutes, with a Q&A.", True, None),
    ("Platinum partners: joint marketing fund", "Apply for co-funded campaigns until the end of the month.", False,
     "Platinum"),
    ("Training: the new firewall line", "A two-hour online course for technical staff.", False, None),
    ("Deal registration: protection extended for Gold", "Approved Gold deals are now protected for 90 days.", False,
     "Gold"),
    ("Holiday support hours", "Partner support runs 9:00–17:00 between the holidays.", True, None),
]
MODELS = [Membership, DealRegistration, DealEvent, PortalEvent]


@dataclass
class PortalSummary:
    users: int = 0
    memberships: int = 0
    registrations: int = 0
    deal_events: int = 0
    portal_events: int = 0
    announcements: int = 0
    logins: list[str] | None = None


def portal_seed(
    *, seed: int = 42, today: date | None = None, progress: Callable[[str], None] | None = None,
    users_per_partner: int = USERS_PER_PARTNER, registrations_per_partner: int = REGISTRATIONS_PER_PARTNER,
) -> PortalSummary:
    """Add the portal's demo data to the partners there. ValueError when there are no partners or partner users
    exist already."""
    progress = progress or (lambda message: None)
    today = today or datetime.now(UTC).date()
    if Membership.objects.exists():
        raise ValueError("the portal's demo data is there already (partner users exist)")
    partners = Partner.objects.count()
    if partners == 0:
        raise ValueError("no partners: load the demo data first (seed_demo)")
    user_model = get_user_model()
    summary = PortalSummary()
    anchor = datetime.combine(today, day_time(0), tzinfo=UTC)
    with transaction.atomic():
        set_local(synchronous_commit="off", work_mem="256MB", maintenance_work_mem="1GB", jit="off")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE in _bulk_load needs no pending checks
        params = {
            "seed": seed, "anchor": anchor, "epoch": anchor.timestamp(), "partners": partners,
            "per_partner": users_per_partner, "registrations": partners * registrations_per_partner,
            "companies": max(1, int(partners * registrations_per_partner * 0.8)),
            "user_base": user_model.objects.aggregate(m=Max("id"))["m"] or 0,
            "membership_base": Membership.objects.aggregate(m=Max("id"))["m"] or 0,
            "registration_base": DealRegistration.objects.aggregate(m=Max("id"))["m"] or 0,
            "deal_event_base": DealEvent.objects.aggregate(m=Max("id"))["m"] or 0,
            "portal_event_base": PortalEvent.objects.aggregate(m=Max("id"))["m"] or 0,
            "demo_password": make_password(demo.DEMO_PASSWORD), "unusable": UNUSABLE_PASSWORD,
            "demo_logins": DEMO_LOGINS, "first_names": FIRST_NAMES, "last_names": LAST_NAMES, "nouns": NOUNS,
            "syllables": SYLLABLES, "suffixes": COMPANY_SUFFIXES, "tlds": TLDS, "countries": COUNTRIES,
            "products": PRODUCTS, "reasons": REASONS,
        }
        with _bulk_load([m._meta.db_table for m in MODELS], progress):
            for label, sql, field in _STEPS:
                started = time.monotonic()
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    count = cursor.rowcount
                if field == "users":
                    summary.users = summary.memberships = count
                    with connection.cursor() as cursor:
                        cursor.execute(MEMBERSHIPS_SQL, params)
                else:
                    setattr(summary, field, getattr(summary, field) + count)
                progress(f"portal {label}: {count:,} rows in {time.monotonic() - started:.1f} s")
        reset_sequences(user_model, *MODELS)  # every row so far has an explicit id
        started = time.monotonic()
        summary.announcements, events = _announcements(anchor)
        summary.portal_events += events
        progress(f"portal announcements: {summary.announcements} (+{events:,} feed rows) in "
                 f"{time.monotonic() - started:.1f} s")
        analyze(user_model, *MODELS)
    vacuum_analyze(user_model, *MODELS)
    summary.logins = [f"partner{n}" for n in range(1, min(DEMO_LOGINS, partners) + 1)]
    return summary


def _announcements(anchor: datetime) -> tuple[int, int]:
    """The announcements (ORM: a handful), the latest one in every partner's feed (one INSERT … SELECT)."""
    tiers = {tier.name: tier for tier in Tier.objects.all()}
    created = []
    for days, (title, body, to_all, tier) in enumerate(reversed(ANNOUNCEMENTS)):
        announcement = Announcement.objects.create(
            title=title, body=body, to_all=to_all or tier is None and days % 2 == 0,
            kinds=[] if to_all or tier else ["organisation"], published_at=anchor - timedelta(days=3 * days + 1))
        if tier and tier in tiers:
            announcement.tiers.add(tiers[tier])
        created.append(announcement)
    latest = max(created, key=lambda a: a.published_at)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO portal_portalevent (partner_id, kind, title, link, actor_id, source_key, at)"
            " SELECT p.id, %s, %s, %s, NULL, %s, %s FROM partners_partner p"
            " ON CONFLICT (partner_id, source_key) DO NOTHING",
            [PortalEvent.Kind.ANNOUNCEMENT, latest.title, "/portal/messages/", f"announcement:{latest.pk}",
             latest.published_at],
        )
        return len(created), cursor.rowcount


def portal_models() -> list:
    """The portal's tables that point at partners, leads or each other (``demo.demo_clear`` truncates them with the
    partners: PostgreSQL truncates a referenced table only together with the tables referencing it)."""
    return [AnnouncementRead, Announcement.partners.through, Announcement.tiers.through, Announcement, PortalEvent,
            ProfileUpdate, SharedLead, DealEvent, DealLine, DealRegistration, AccessRequest, PartnerDomain, Invitation,
            Membership]


def portal_clear() -> None:
    """Delete the portal's rows and its partner users (every user with a membership), set-based: the portal tables
    are truncated, then rows of other tables pointing at those users are deleted (NOT NULL columns) or cleared."""
    user_model = get_user_model()
    models = portal_models()
    users_table = connection.ops.quote_name(user_model._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        memberships = connection.ops.quote_name(Membership._meta.db_table)
        cursor.execute(f"CREATE TEMP TABLE portal_demo_users ON COMMIT DROP AS SELECT user_id AS id FROM {memberships}")  # noqa: S608
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
        cursor.execute(f"TRUNCATE {tables}")
        # Everything else that points at those users (notifications, sessions' owners, groups, axes…).
        cursor.execute(
            "SELECT c.conrelid::regclass::text, a.attname, a.attnotnull FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f' AND c.confrelid = %s::regclass",
            [user_model._meta.db_table],
        )
        for table, column, not_null in cursor.fetchall():
            column = connection.ops.quote_name(column)
            if not_null:
                cursor.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM portal_demo_users)")  # noqa: S608
            else:
                cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} IN (SELECT id FROM portal_demo_users)")  # noqa: S608
        cursor.execute(f"DELETE FROM {users_table} WHERE id IN (SELECT id FROM portal_demo_users)")  # noqa: S608
        cursor.execute("DROP TABLE portal_demo_users")  # inside an outer transaction (tests) there is no commit yet


# --- SQL ----------------------------------------------------------------------------------------------------------------

# The partners by number (n: rank by id), with their rep. OFFSET 0: computed once.
_PARTNERS = """(SELECT id, assigned_to_id, row_number() OVER (ORDER BY id) AS n FROM partners_partner OFFSET 0)"""

USERS_SQL = f"""
INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff,
    is_active, date_joined)
SELECT %(user_base)s + (p.n - 1) * %(per_partner)s + k,
       CASE WHEN k = 1 AND p.n <= %(demo_logins)s THEN %(demo_password)s ELSE %(unusable)s END,
       NULL, false, u.username, u.first, u.last, u.username || '@example.org', false, true,
       {_at(f"-86400 * {_int('p.n * 8 + k', 201, 5, 400)}")}
FROM {_PARTNERS} p
CROSS JOIN generate_series(1, %(per_partner)s) AS k
CROSS JOIN LATERAL (SELECT 'partner' || p.n || CASE WHEN k = 1 THEN '' ELSE chr(96 + k) END AS username,
                           {_pick('first_names', FIRST_NAMES, 'p.n * 8 + k', 202)} AS first,
                           {_pick('last_names', LAST_NAMES, 'p.n * 8 + k', 203)} AS last) u
ORDER BY 1
"""  # noqa: S608 (constants and %(params)s only)

# Run right after USERS_SQL (same ids): the first user of each partner is its admin.
MEMBERSHIPS_SQL = f"""
INSERT INTO portal_membership (id, user_id, partner_id, role, is_active, created_at, invited_by_id)
SELECT %(membership_base)s + (p.n - 1) * %(per_partner)s + k, %(user_base)s + (p.n - 1) * %(per_partner)s + k, p.id,
       CASE WHEN k = 1 THEN 'admin' ELSE 'member' END, true,
       {_at(f"-86400 * {_int('p.n * 8 + k', 201, 5, 400)}")},
       CASE WHEN k = 1 THEN p.assigned_to_id ELSE %(user_base)s + (p.n - 1) * %(per_partner)s + 1 END
FROM {_PARTNERS} p
CROSS JOIN generate_series(1, %(per_partner)s) AS k
ORDER BY 1
"""  # noqa: S608 (constants and %(params)s only)

# Registration r: its partner (a hash of r), its prospect (company number c: a hash of r over ~0.8 × as many
# companies), its status and, from the status, its age in days (when it was created) and its dates.
_STATUS_AGE = """CASE x.status
    WHEN 'draft' THEN 0 + x.f * 30 WHEN 'submitted' THEN x.f * 20 WHEN 'returned' THEN 2 + x.f * 28
    WHEN 'approved' THEN 5 + x.f * 75 WHEN 'won_pending' THEN 20 + x.f * 60
    WHEN 'expired' THEN 100 + x.f * 265 ELSE 10 + x.f * 355 END"""
REGISTRATIONS_SQL = f"""
INSERT INTO portal_dealregistration (id, partner_id, created_by_id, form_token, status, stage, company, domain,
    domain_reversed, contact_name, contact_email, contact_phone, country, amount, currency, expected_close, notes,
    reviewer_id, decision_reason, decided_by_id, lead_id, submitted_at, decided_at, protection_expires_at,
    extension_requested_at, extension_granted_at, review_reminded_at, expiry_notice, created_at, updated_at)
SELECT %(registration_base)s + r.r, p.id, %(user_base)s + (p.n - 1) * %(per_partner)s + 1 + (r.r %% %(per_partner)s),
       NULL, x.status, {_weighted([("qualifying", 2), ("proposal", 1), ("negotiation", 1)], 'r.r', 110)},
       c.company, c.domain, reverse(c.domain),  -- reversed character by character (portal.domains)
       c.first || ' ' || c.last, lower(c.first) || '@' || c.domain, '+49 30 ' || {_int('c.c', 111, 1000000, 9999999)},
       {_pick('countries', COUNTRIES, 'c.c', 112)},
       (1000 + floor({_u('r.r', 113)} * 99) * 1000)::numeric, 'EUR',
       ({_at('-86400 * t.age')})::date + {_int('r.r', 114, 30, 120)},
       {_pick('products', PRODUCTS, 'r.r', 115)},
       p.assigned_to_id,
       CASE WHEN x.status IN ('rejected', 'returned') THEN {_pick('reasons', REASONS, 'r.r', 116)} ELSE '' END,
       CASE WHEN t.decided IS NOT NULL THEN p.assigned_to_id END, NULL,
       t.submitted, t.decided,
       CASE WHEN x.status IN ('approved', 'won_pending', 'won', 'lost', 'expired') THEN t.decided + interval '90 days'
       END,
       NULL, NULL, NULL, 0, t.created, coalesce(t.decided, t.submitted, t.created)
FROM generate_series(1, %(registrations)s) AS r(r)
CROSS JOIN LATERAL (SELECT 1 + floor({_u('r.r', 100)} * %(partners)s)::bigint AS n) pn
JOIN {_PARTNERS} p ON p.n = pn.n
CROSS JOIN LATERAL (SELECT {_weighted(STATUS_MIX, 'r.r', 101)} AS status, {_u('r.r', 102)} AS f) x
CROSS JOIN LATERAL (SELECT 1 + floor({_u('r.r', 103)} * %(companies)s)::bigint AS c) cn
CROSS JOIN LATERAL (SELECT cn.c,
    initcap({_pick('syllables', SYLLABLES, 'cn.c', 104)} || {_pick('syllables', SYLLABLES, 'cn.c', 105)}
            || {_pick('syllables', SYLLABLES, 'cn.c', 106)}) || ' ' || {_pick('nouns', NOUNS, 'cn.c', 107)} AS stem,
    {_pick('first_names', FIRST_NAMES, 'cn.c', 108)} AS first, {_pick('last_names', LAST_NAMES, 'cn.c', 109)} AS last
    ) s
CROSS JOIN LATERAL (SELECT s.c, s.first, s.last, s.stem || ' ' || {_pick('suffixes', COMPANY_SUFFIXES, 's.c', 117)} AS company,
    lower(replace(s.stem, ' ', '-')) || '.' || {_pick('tlds', TLDS, 's.c', 118)} AS domain) c
CROSS JOIN LATERAL (SELECT {_STATUS_AGE} AS age) a
CROSS JOIN LATERAL (SELECT a.age,
    {_at('-86400 * a.age')} AS created,
    CASE WHEN x.status <> 'draft' THEN {_at(f"-86400 * a.age + 3600 * {_int('r.r', 119, 1, 40)}")} END AS submitted,
    CASE WHEN x.status NOT IN ('draft', 'submitted')
         THEN {_at(f"-86400 * greatest(0.2, a.age - {_int('r.r', 120, 2, 10)})")} END AS decided) t
ORDER BY 1
"""  # noqa: S608 (constants and %(params)s only)

DEAL_EVENTS_SQL = """
INSERT INTO portal_dealevent (id, registration_id, status, note, by_id, at)
SELECT %(deal_event_base)s + row_number() OVER (ORDER BY e.registration_id, e.at), e.*
FROM (
    SELECT id AS registration_id, 'submitted' AS status, '' AS note, created_by_id AS by_id, submitted_at AS at
    FROM portal_dealregistration WHERE id > %(registration_base)s AND submitted_at IS NOT NULL
    UNION ALL
    SELECT id, CASE WHEN status IN ('won', 'lost', 'expired', 'won_pending') THEN 'approved' ELSE status END,
           decision_reason, decided_by_id, decided_at
    FROM portal_dealregistration WHERE id > %(registration_base)s AND decided_at IS NOT NULL
) e
"""  # noqa: S608 (constants and %(params)s only)

# The feed: the decisions of the last 30 days, and colleagues who joined (the members, by their admin).
PORTAL_EVENTS_SQL = """
INSERT INTO portal_portalevent (id, partner_id, kind, title, link, actor_id, source_key, at)
SELECT %(portal_event_base)s + row_number() OVER (ORDER BY e.partner_id, e.at), e.*
FROM (
    SELECT partner_id, 'deal_decided', 'DR-' || lpad(id::text, 6, '0') || ' ' || company || ': '
               || CASE WHEN status = 'rejected' THEN 'rejected' WHEN status = 'returned' THEN 'returned for more '
               || 'information' ELSE 'approved' END,
           '/portal/deals/' || id || '/', decided_by_id, 'deal:' || id || ':decided', decided_at
    FROM portal_dealregistration
    WHERE id > %(registration_base)s AND decided_at >= %(anchor)s - interval '30 days'
    UNION ALL
    SELECT m.partner_id, 'colleague_joined', u.first_name || ' ' || u.last_name || ' joined the portal',
           '/portal/people/', m.invited_by_id, 'colleague:' || m.user_id, m.created_at
    FROM portal_membership m JOIN auth_user u ON u.id = m.user_id
    WHERE m.id > %(membership_base)s AND m.role = 'member' AND m.created_at >= %(anchor)s - interval '60 days'
) e(partner_id, kind, title, link, actor_id, source_key, at)
"""  # noqa: S608 (constants and %(params)s only)

# (label, statement, Summary field): users first (the memberships follow in the same step), then what refers to them.
_STEPS = [
    ("users and memberships", USERS_SQL, "users"),
    ("deal registrations", REGISTRATIONS_SQL, "registrations"),
    ("deal events", DEAL_EVENTS_SQL, "deal_events"),
    ("feed events", PORTAL_EVENTS_SQL, "portal_events"),
]
