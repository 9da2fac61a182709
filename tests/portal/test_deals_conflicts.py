"""portal.conflicts: other partners' open registrations, leads and customers by domain (same, parent, subdomain) and
by company-name similarity; two statements; the plan uses the indexes (no sequential scan), checked on a few
thousand rows."""

import importlib
import random
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from leads.models import Customer, Lead
from portal import conflicts
from portal.conflicts import conflict_statement, find_conflicts, shows_existing_notice
from portal.domains import reversed_domain
from portal.models import DealRegistration
from tests.factories import CustomerFactory, LeadFactory, PartnerFactory


def registration(partner, company, domain="", status="submitted", **fields):
    return DealRegistration.objects.create(partner=partner, company=company, domain=domain,
                                           domain_reversed=reversed_domain(domain) if domain else "",
                                           status=status, submitted_at=timezone.now(), **fields)


def found(items):
    return {(c.kind, c.id): c for c in items}


def test_the_index_expressions_are_the_migrations():
    migration = importlib.import_module("leads.migrations.0005_conflict_check_indexes")
    assert conflicts.LEAD_DOMAIN_SQL == migration.LEAD_DOMAIN
    assert conflicts.CUSTOMER_DOMAIN_SQL == migration.CUSTOMER_DOMAIN


def test_other_partners_open_registrations_by_domain(acme, globex):
    same = registration(globex, "Initech", "example.com")
    sub = registration(globex, "Initech Sales", "sales.example.com")
    parent_of_us = registration(globex, "Initech Holding", "example.com")
    registration(globex, "Closed one", "example.com", status="rejected")
    registration(globex, "A draft", "example.com", status="draft")
    registration(acme, "Our own", "example.com")  # the partner's own: not a conflict
    registration(globex, "Sibling", "shop.example.org")
    got = found(find_conflicts(company="Zzz", domain="example.com", exclude_partner_id=acme.pk))
    assert set(got) == {("registration", same.pk), ("registration", sub.pk), ("registration", parent_of_us.pk)}
    assert got[("registration", same.pk)].why == "same domain"
    assert got[("registration", sub.pk)].why == "subdomain"
    assert got[("registration", same.pk)].partner_name == "Globex Resellers"
    # From the subdomain's side, example.com is a parent.
    got = found(find_conflicts(company="Zzz", domain="sales.example.com", exclude_partner_id=acme.pk))
    assert got[("registration", same.pk)].why == "parent domain"
    assert got[("registration", sub.pk)].why == "same domain"
    # "notexample.com" is not a subdomain of example.com.
    registration(globex, "Look-alike", "notexample.com")
    assert len(find_conflicts(company="Zzz", domain="example.com", exclude_partner_id=acme.pk)) == 3


def test_leads_and_customers_by_domain(acme, globex):
    lead = LeadFactory(name="Bob", company="Initech", email="bob@Sales.Example.com", partner=None)
    LeadFactory(name="Gmail person", email="someone@gmail.com", partner=None)
    by_site = CustomerFactory(name="Initech GmbH", website="https://www.Example.com/about", partner=None)
    by_mail = CustomerFactory(name="Other", email="x@example.com", partner=None)
    CustomerFactory(name="Unrelated", website="http://example.org", partner=None)
    got = found(find_conflicts(company="Zzz", domain="example.com", exclude_partner_id=acme.pk))
    assert set(got) == {("lead", lead.pk), ("customer", by_site.pk), ("customer", by_mail.pk)}
    assert got[("lead", lead.pk)].why == "subdomain" and got[("lead", lead.pk)].domain == "sales.example.com"
    assert got[("customer", by_site.pk)].why == "same domain" and got[("customer", by_site.pk)].domain == "example.com"
    # A public mail domain never matches by domain.
    assert find_conflicts(company="", domain="gmail.com", exclude_partner_id=acme.pk) == []


def test_company_name_similarity(acme, globex):
    reg = registration(globex, "ACME Corporation", "acme-corp.example")
    lead = LeadFactory(name="Someone", company="Acme Corp", partner=None)
    customer = CustomerFactory(name="Acme Corp Ltd", partner=None)
    LeadFactory(name="Far away", company="Totally Different Inc", partner=None)
    got = found(find_conflicts(company="Acme Corp", domain="", exclude_partner_id=acme.pk))
    assert set(got) == {("registration", reg.pk), ("lead", lead.pk), ("customer", customer.pk)}
    assert got[("lead", lead.pk)].similarity == 1.0 and got[("lead", lead.pk)].why == "similar name"
    assert not got[("registration", reg.pk)].by_domain


def test_domain_and_name_merge_and_domain_first(acme, globex):
    customer = CustomerFactory(name="Initech", company="Initech", website="initech.example", partner=None)
    similar = LeadFactory(name="x", company="Initech Ltd", partner=None)
    result = find_conflicts(company="Initech", domain="initech.example", exclude_partner_id=acme.pk)
    assert [(c.kind, c.id) for c in result] == [("customer", customer.pk), ("lead", similar.pk)]
    assert result[0].why == "same domain; similar name"


def test_excluded_registration_with_its_lead_and_customer(acme, globex):
    lead = LeadFactory(name="x", company="Initech", email="a@initech.example", partner=acme)
    customer = CustomerFactory(name="Initech", email="a@initech.example", lead=lead, partner=acme)
    own = registration(acme, "Initech", "initech.example", lead=lead)
    other = registration(globex, "Initech", "initech.example")
    got = found(find_conflicts(company="Initech", domain="initech.example", exclude_partner_id=None,
                               exclude_registration_id=own.pk))
    assert set(got) == {("registration", other.pk)}
    assert customer.pk and ("customer", customer.pk) not in got


def test_the_notice_rule(acme, globex):
    registration(globex, "Initech", "initech.example")
    assert shows_existing_notice(find_conflicts(company="x", domain="initech.example", exclude_partner_id=acme.pk))
    assert not shows_existing_notice(find_conflicts(company="Initech", domain="", exclude_partner_id=acme.pk))
    LeadFactory(name="x", email="a@leadonly.example", partner=None)
    assert not shows_existing_notice(find_conflicts(company="x", domain="leadonly.example",
                                                    exclude_partner_id=acme.pk))
    CustomerFactory(name="y", website="customer.example", partner=None)
    assert shows_existing_notice(find_conflicts(company="x", domain="customer.example", exclude_partner_id=acme.pk))


def test_two_statements_whatever_the_rows(acme, globex, django_assert_num_queries):
    for n in range(20):
        registration(globex, f"Initech {n}", f"s{n}.initech.example")
    with django_assert_num_queries(4):  # savepoint, SET LOCAL threshold, the UNION ALL statement, release
        result = find_conflicts(company="Initech", domain="initech.example", exclude_partner_id=acme.pk, limit=10)
    assert len(result) == 10


def test_nothing_to_look_for_is_no_query(acme, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert find_conflicts(company="ab", domain="", exclude_partner_id=acme.pk) == []


WORDS = ["Alpha", "Beta", "Gamma", "Delta", "Omega", "Nova", "Prime", "Global", "Trading", "Systems", "Foods",
         "Agro", "Tech", "Logistics", "Retail", "Energy", "Motors", "Pharma", "Textiles", "Steel"]


@pytest.mark.django_db
def test_the_plan_uses_the_indexes(acme, globex):
    """A few thousand rows of each, analysed; with sequential scans discouraged (the plan's shape, not its cost: at
    this size a scan is cheap, at 1M leads it is not), every branch reads an index of ours."""
    rng = random.Random(14)
    partners = [acme, globex, *[PartnerFactory() for _ in range(3)]]
    now = timezone.now()

    def company():
        return f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.randint(1, 999)}"

    Lead.objects.bulk_create([
        Lead(name=f"L{n}", company=company(), email=f"p{n}@d{n % 700}.example", partner=rng.choice(partners),
             created_at=now - timedelta(days=n % 90)) for n in range(3000)
    ])
    Customer.objects.bulk_create([
        Customer(name=company(), company=company(), website=f"https://www.c{n}.example/x" if n % 2 else "",
                 email=f"a@m{n}.example") for n in range(2000)
    ])
    DealRegistration.objects.bulk_create([
        DealRegistration(partner=rng.choice(partners), company=company(), domain=f"r{n % 900}.example",
                         domain_reversed=reversed_domain(f"r{n % 900}.example"),
                         status=rng.choice(["submitted", "approved", "approved", "won_pending", "rejected"]))
        for n in range(20000)
    ])
    with connection.cursor() as cursor:
        for table in ("leads_lead", "leads_customer", "portal_dealregistration"):
            cursor.execute(f"ANALYZE {table}")
    sql, params = conflict_statement(company="Alpha Tech 12", domain="r12.example", exclude_partner_id=acme.pk,
                                     exclude_registration_id=None, limit=10)

    def explain():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL pg_trgm.similarity_threshold = 0.45")
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())

    plan = explain()
    for table in ("leads_lead", "leads_customer", "portal_dealregistration"):
        assert f"Seq Scan on {table}" not in plan, plan
    for index in ("deal_domain_idx", "lead_domain_rev_idx", "lead_company_trgm_gist",
                  "customer_domain_rev_idx", "customer_company_trgm_gist", "customer_name_trgm_gist"):
        assert index in plan, (index, plan)
    # The registrations' name branch: at this size the planner may prefer the status index to the partial trigram
    # index; without it (dropped inside this transaction, rolled back) the trigram index answers, so its predicate
    # (the open statuses) is proven by the branch's WHERE.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX deal_status_idx")
        plan = explain()
        transaction.set_rollback(True)
    assert "deal_company_trgm_gist" in plan and "Seq Scan on portal_dealregistration" not in plan, plan
