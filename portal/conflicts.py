"""The conflict check of a deal registration: who else already holds this prospect.

Candidates are other partners' open registrations (``DealRegistration.OPEN``), existing leads and existing customers
(any source), found by web domain — the same domain, a parent of it ("example.com" for "sales.example.com") or a
subdomain of it — and by company-name similarity (PostgreSQL trigrams, ``pg_trgm``'s ``%`` operator).

Decisions:
- Indexes, not scans: one ``UNION ALL`` statement of branches (registrations, leads, customers × each domain
  condition, each name column), each written so that exactly one index answers it — the reversed-domain btrees
  (``deal_domain_idx``, ``lead_domain_rev_idx``, ``customer_domain_rev_idx``: equality with each parent, and in a
  branch of its own ``LIKE 'moc.elpmaxe.%'`` for subdomains, text_pattern_ops) and the trigram GiST indexes on
  ``UPPER(company)`` / ``UPPER(name)`` (``deal_company_trgm_gist``, partial on the open statuses, so the branch
  repeats that exact ``status IN (…)``; ``lead_company_trgm_gist``; ``customer_company_trgm_gist`` /
  ``customer_name_trgm_gist``), read nearest first (``ORDER BY … <-> …``). The domain expressions below are the
  indexes' own (leads/migrations/0005, checked by a test): any other spelling is a sequential scan of a million leads.
- Each branch stops at ``limit`` rows, then the statement merges the hits per candidate (a customer found by domain
  and by name is one conflict "same domain; similar name"), domain hits first, then by similarity.
- The name threshold (``settings.DEAL_CONFLICT_SIMILARITY``) is set with ``SET LOCAL pg_trgm.similarity_threshold``
  in this function's transaction: two statements in all, whatever the number of rows.
- Public mail domains (portal.domains) never match by domain.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from leads.models import Customer, Lead
from partners.models import Partner
from portal.domains import is_public_mail_domain, parent_domains, reversed_domain
from portal.models import DealRegistration

# The indexed expressions of leads/migrations/0005 (LEAD_DOMAIN, CUSTOMER_DOMAIN), character for character.
LEAD_DOMAIN_SQL = "reverse(lower(split_part(email, '@', 2)))"
CUSTOMER_DOMAIN_SQL = (
    "reverse(lower(coalesce(nullif(regexp_replace(website, '^([a-z][a-z0-9+.-]*://)?(www\\.)?([^/:?#]*).*$', '\\3', 'i'), ''),"
    " split_part(email, '@', 2))))"
)
# The partial trigram index of portal/migrations/0002 covers exactly these statuses.
OPEN_SQL = "status IN ('submitted', 'returned', 'approved', 'won_pending')"
assert tuple(DealRegistration.OPEN) == ("submitted", "returned", "approved", "won_pending")  # noqa: S101

REGISTRATION, LEAD, CUSTOMER = "registration", "lead", "customer"
KIND_LABELS = {REGISTRATION: "Registration", LEAD: "Lead", CUSTOMER: "Customer"}
MIN_NAME_LENGTH = 3  # shorter company names have too few trigrams to compare


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: str  # registration / lead / customer
    id: int
    name: str
    partner_id: int | None
    partner_name: str
    domain: str
    similarity: float  # of the company names, 0–1
    why: str  # "same domain", "subdomain", "parent domain", "similar name", joined by "; "
    by_domain: bool

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def _q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _why_domain(column: str) -> str:
    return (f"CASE WHEN {column} = %(rev)s THEN 'same domain' WHEN {column} LIKE %(sub)s THEN 'subdomain'"
            " ELSE 'parent domain' END")


def _branches(*, by_domain: bool, by_name: bool) -> list[str]:
    deals, leads, customers = _q(DealRegistration), _q(Lead), _q(Customer)
    sim = "similarity(UPPER({}), %(upper_company)s)"
    excluded_lead = f"coalesce((SELECT x.lead_id FROM {deals} x WHERE x.id = %(registration)s), -1)"  # noqa: S608
    other_deal = f"{OPEN_SQL} AND partner_id IS DISTINCT FROM %(partner)s AND id IS DISTINCT FROM %(registration)s"
    customer_name = "coalesce(nullif(company, ''), name)"
    lead_name = "coalesce(nullif(company, ''), name)"
    branches = []
    if by_domain:
        # Each domain condition its own branch: "= ANY(parents)" and "LIKE 'moc.elpmaxe.%'" are each one range of
        # the reversed-domain index, but OR'ed in one branch the planner may scan the table instead (at 1M leads all
        # at one mail domain it did: 950 ms); a prospect found by both is merged below.
        for match in ("{col} = ANY(%(parents)s)", "{col} LIKE %(sub)s"):
            branches += [
                f"""(SELECT 'registration' AS kind, id, company AS name, partner_id, domain, {sim.format('company')} AS sim,
                            {_why_domain('domain_reversed')} AS why, 0 AS rank
                     FROM {deals} WHERE {other_deal} AND {match.format(col='domain_reversed')}
                     LIMIT %(limit)s)""",  # noqa: S608 (names from the models)
                f"""(SELECT 'lead', id, {lead_name}, partner_id, lower(split_part(email, '@', 2)),
                            {sim.format(lead_name)}, {_why_domain(LEAD_DOMAIN_SQL)}, 0
                     FROM {leads} WHERE email <> '' AND id <> {excluded_lead}
                       AND {match.format(col=LEAD_DOMAIN_SQL)}
                     LIMIT %(limit)s)""",  # noqa: S608 (names from the models)
                f"""(SELECT 'customer', id, {customer_name}, partner_id, reverse({CUSTOMER_DOMAIN_SQL}),
                            {sim.format(customer_name)}, {_why_domain(CUSTOMER_DOMAIN_SQL)}, 0
                     FROM {customers} WHERE (website <> '' OR email <> '') AND coalesce(lead_id, 0) <> {excluded_lead}
                       AND {match.format(col=CUSTOMER_DOMAIN_SQL)}
                     LIMIT %(limit)s)""",  # noqa: S608 (names from the models)
            ]
    if by_name:
        # Closest names first, straight from the GiST trigram indexes (leads 0007, portal 0005): ORDER BY distance
        # with a LIMIT reads the nearest few, where sorting every match of a common name read tens of thousands.
        # A customer is looked up by company and by name, each its own branch (merged below).
        near = "UPPER({col}) %% %(upper_company)s ORDER BY UPPER({col}) <-> %(upper_company)s LIMIT %(limit)s"
        branches += [
            f"""(SELECT 'registration', id, company, partner_id, domain, {sim.format('company')}, 'similar name', 1
                 FROM {deals} WHERE {other_deal} AND {near.format(col='company')})""",  # noqa: S608 (model names)
            f"""(SELECT 'lead', id, {lead_name}, partner_id, lower(split_part(email, '@', 2)),
                        {sim.format('company')}, 'similar name', 1
                 FROM {leads} WHERE id <> {excluded_lead} AND {near.format(col='company')})""",  # noqa: S608
        ]
        for column in ("company", "name"):
            branches.append(
                f"""(SELECT 'customer', id, {customer_name}, partner_id,
                            CASE WHEN website <> '' OR email <> '' THEN reverse({CUSTOMER_DOMAIN_SQL}) ELSE '' END,
                            greatest({sim.format('company')}, {sim.format('name')}), 'similar name', 1
                     FROM {customers} WHERE coalesce(lead_id, 0) <> {excluded_lead}
                       AND {near.format(col=column)})"""  # noqa: S608 (names from the models)
            )
    return branches


def find_conflicts(
    *,
    company: str,
    domain: str,
    exclude_partner_id: int | None,
    exclude_registration_id: int | None = None,
    limit: int = 10,
) -> list["Conflict"]:
    """Up to ``limit`` candidates holding the prospect ``company`` / ``domain`` (normalised, or ""), domain matches
    first, then by name similarity; ``exclude_partner_id``'s own registrations and the registration
    ``exclude_registration_id`` (with its lead and that lead's customer) are left out. Two statements."""
    statement = conflict_statement(company=company, domain=domain, exclude_partner_id=exclude_partner_id,
                                   exclude_registration_id=exclude_registration_id, limit=limit)
    if statement is None:
        return []
    sql, params = statement
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [float(settings.DEAL_CONFLICT_SIMILARITY)])
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Conflict(kind=kind, id=pk, name=name or "", partner_id=partner_id, partner_name=partner_name or "",
                 domain=found_domain or "", similarity=round(float(sim or 0), 2),
                 why="; ".join(dict.fromkeys(why.split("; "))),  # a customer found by company and by name: once
                 by_domain=rank == 0)
        for kind, pk, name, partner_id, found_domain, sim, why, rank, partner_name in rows
    ]


def conflict_statement(*, company: str, domain: str, exclude_partner_id: int | None,
                       exclude_registration_id: int | None, limit: int) -> tuple[str, dict] | None:
    """The conflict check's one statement and its parameters (None: nothing to look for)."""
    company = " ".join((company or "").split())
    domain = (domain or "").strip().lower()
    by_domain = bool(domain) and not is_public_mail_domain(domain)
    by_name = len(company) >= MIN_NAME_LENGTH
    if not (by_domain or by_name) or limit < 1:
        return None
    rev = reversed_domain(domain)
    params = {
        "rev": rev,
        "parents": [reversed_domain(parent) for parent in parent_domains(domain)] if by_domain else [],
        "sub": rev + ".%",
        "upper_company": company.upper(),
        "partner": exclude_partner_id,
        "registration": exclude_registration_id,
        "limit": limit,
    }
    sql = f"""
        WITH hits (kind, id, name, partner_id, domain, sim, why, rank) AS ({" UNION ALL ".join(_branches(by_domain=by_domain, by_name=by_name))})
        SELECT h.kind, h.id, max(h.name), max(h.partner_id), max(h.domain), max(h.sim),
               string_agg(h.why, '; ' ORDER BY h.rank), min(h.rank), max(p.name)
        FROM hits h LEFT JOIN {_q(Partner)} p ON p.id = h.partner_id
        GROUP BY h.kind, h.id
        ORDER BY min(h.rank), max(h.sim) DESC, h.kind, h.id
        LIMIT %(limit)s
    """  # noqa: S608 (table names from the models; values are parameters)
    return sql, params


def shows_existing_notice(conflicts: list[Conflict]) -> bool:
    """Whether the submitting partner may be told "a registration for this company already exists".

    The rule: only when another partner's open registration or an existing customer matches BY DOMAIN — a strong,
    factual match. A similar name, or a lead (the vendor's own pipeline, which partners are not told about), says
    nothing to the partner. Nothing else of the conflict (who, which partner, what) is ever shown to them."""
    return any(c.by_domain and c.kind in (REGISTRATION, CUSTOMER) for c in conflicts)
