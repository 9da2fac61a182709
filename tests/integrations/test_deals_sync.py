"""Deal registrations ↔ Opportunity, both ways, through the real connector against the local Salesforce: pushed from
the outbox's "crm" consumer once submitted (never a draft), decided / closed / moved by the CAM in the CRM and pulled
back through portal.deal_services (PRM's rules), refused steps logged, and no echo either way."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from integrations.deals import DEAL
from integrations.models import ExternalRef, SyncLog
from integrations.services import connection_pull, connection_push, crm_push_pending
from integrations.sync import Context, Counts, pull_page_commit
from leads.models import Customer, Lead
from notifications.models import Notification
from outbox.models import Event
from portal.deal_services import (
    deal_confirm_won,
    deal_decide,
    deal_extension_decide,
    deal_extension_request,
    deal_refuse_won,
    deal_report_lost,
    deal_report_won,
    deal_save,
    deal_stage_set,
    deal_submit,
    deals_expire,
)
from portal.models import DealEvent, DealRegistration, Membership
from tests.factories import PartnerFactory, tier
from tests.portal.conftest import make_member

Status = DealRegistration.Status
FIELDS = dict(company="Initech", domain="initech.com", contact_name="Bill Lumbergh", contact_email="bill@initech.com",
              amount=Decimal("5000.00"), expected_close=date(2027, 3, 31), notes="50 licences")


@pytest.fixture(autouse=True)
def crm_consumer(settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}


@pytest.fixture
def acme(db, rep):
    return PartnerFactory(name="Acme Distribution", tier=tier("Gold"), assigned_to=rep)


@pytest.fixture
def account(acme, sf_connection, fake_sf):
    """Acme's Account, linked by the partner pull (PRM_Code__c)."""
    account_id = fake_sf.put("Account", Name=acme.name, PRM_Code__c=acme.code)
    connection_pull(connection_id=sf_connection.pk)
    assert ExternalRef.objects.filter(object="account", local_id=acme.pk, remote_id=account_id).exists()
    return account_id


@pytest.fixture
def member(acme):
    return make_member(acme, role=Membership.Role.ADMIN, username="ada", first_name="Ada", email="ada@acme.example")


def submit(member, **overrides) -> DealRegistration:
    registration = deal_save(member=member, **{**FIELDS, **overrides})
    return deal_submit(registration=registration, member=member).registration


def opportunity(fake_sf, registration) -> dict:
    return next(r for r in fake_sf.records["Opportunity"].values() if r.get("PRM_Deal_Id__c") == str(registration.pk))


def opportunity_writes(fake_sf) -> int:
    return sum(1 for method, path in fake_sf.calls if method == "PATCH" and "Opportunity" in path)


def pull(sf_connection):
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.status == "ok", run.message
    return run


def test_a_submitted_registration_is_pushed_as_an_opportunity_and_a_draft_never(sf_connection, fake_sf, account,
                                                                                  member):
    draft = deal_save(member=member, **{**FIELDS, "company": "Private Draft"})
    registration = submit(member)
    assert crm_push_pending() >= 1
    assert len(fake_sf.records["Opportunity"]) == 1  # the draft stays private to the partner
    opp = opportunity(fake_sf, registration)
    assert (opp["AccountId"], opp["Name"], opp["StageName"], opp["CloseDate"], opp["Amount"]) == (
        account, f"DR-{registration.pk:06d} Initech", "Qualification", "2027-03-31", 5000.0)
    assert (opp["PRM_Registration_Status__c"], opp["PRM_Decision_Reason__c"]) == ("Submitted", None)
    assert ExternalRef.objects.get(object="deal").local_id == registration.pk and draft.status == Status.DRAFT
    # Our own write comes back: nothing changes, nothing is pushed again.
    before = DealRegistration.objects.get(pk=registration.pk).updated_at
    pull(sf_connection)
    assert DealRegistration.objects.get(pk=registration.pk).updated_at == before
    assert not SyncLog.objects.exists()
    writes = opportunity_writes(fake_sf)
    connection_push(connection_id=sf_connection.pk, object="deal", local_ids=[registration.pk, draft.pk])
    assert opportunity_writes(fake_sf) == writes


def test_approved_in_the_crm_is_deal_decide_by_salesforce_and_nothing_echoes(sf_connection, fake_sf, account,
                                                                              member, rep):
    registration = submit(member)
    crm_push_pending()
    opp = opportunity(fake_sf, registration)
    fake_sf.put("Opportunity", opp["Id"], PRM_Registration_Status__c="Approved", PRM_Decision_Reason__c="Good  fit")
    pull(sf_connection)
    registration.refresh_from_db()
    assert (registration.status, registration.decided_by_id, registration.decision_reason) == (
        Status.APPROVED, None, "Good fit")
    assert registration.protection_expires_at is not None
    lead = Lead.objects.get(pk=registration.lead_id)
    assert (lead.partner_id, lead.assigned_to_id, lead.expected_value) == (registration.partner_id, rep.pk,
                                                                          Decimal("5000.00"))
    notice = Notification.objects.get(recipient=member.user, event="deal_decided")
    assert notice.body.startswith("Salesforce: Good fit")
    assert Event.objects.filter(topic="deal.decided", subject_id=registration.pk).count() == 1
    assert DealEvent.objects.filter(registration=registration, status="approved").get().note == "Salesforce: Good fit"
    # The next push (deal.decided, lead.created) sends nothing back to the Opportunity; a second pull is a no-op.
    writes, modified = opportunity_writes(fake_sf), opportunity(fake_sf, registration)["LastModifiedDate"]
    crm_push_pending()
    assert opportunity_writes(fake_sf) == writes
    assert opportunity(fake_sf, registration)["LastModifiedDate"] == modified
    history = DealEvent.objects.count()
    pull(sf_connection)
    assert DealEvent.objects.count() == history and not SyncLog.objects.exists()
    assert Lead.objects.count() == 1


def test_rejected_and_returned_in_the_crm(sf_connection, fake_sf, account, member):
    rejected, returned = submit(member, company="Rejected Co"), submit(member, company="Returned Co")
    crm_push_pending()
    fake_sf.put("Opportunity", opportunity(fake_sf, rejected)["Id"], PRM_Registration_Status__c="Rejected")
    fake_sf.put("Opportunity", opportunity(fake_sf, returned)["Id"], PRM_Registration_Status__c="Returned",
                PRM_Decision_Reason__c="Which product?")
    pull(sf_connection)
    rejected.refresh_from_db()
    returned.refresh_from_db()
    assert (rejected.status, rejected.decision_reason, rejected.lead_id) == (Status.REJECTED, "Decided in Salesforce",
                                                                             None)
    assert (returned.status, returned.decision_reason) == (Status.RETURNED, "Which product?")
    assert Event.objects.filter(topic="deal.decided").count() == 2 and not Lead.objects.exists()
    assert Notification.objects.filter(recipient=member.user, event="deal_decided").count() == 2
    # Pushed back: only the rejected one's StageName, which PRM shows as Closed Lost (derived, not an echo).
    before = {r["Id"]: dict(r) for r in fake_sf.records["Opportunity"].values()}
    crm_push_pending()
    after = {r["Id"]: r for r in fake_sf.records["Opportunity"].values()}
    assert after[opportunity(fake_sf, rejected)["Id"]]["StageName"] == "Closed Lost"
    assert after[opportunity(fake_sf, returned)["Id"]] == before[opportunity(fake_sf, returned)["Id"]]
    # The partner answers and submits again: pushed; the CAM approves without a new reason: not the old one.
    deal_save(member=member, registration=returned, notes="Product X, 50 seats")
    deal_submit(registration=returned, member=member)
    crm_push_pending()
    opp = opportunity(fake_sf, returned)
    assert (opp["PRM_Registration_Status__c"], opp["StageName"]) == ("Submitted", "Qualification")
    fake_sf.put("Opportunity", opp["Id"], PRM_Registration_Status__c="Approved")
    pull(sf_connection)
    returned.refresh_from_db()
    assert (returned.status, returned.decision_reason) == (Status.APPROVED, "Decided in Salesforce")
    assert Event.objects.filter(topic="deal.decided").count() == 3 and Lead.objects.count() == 1


def test_closed_won_in_the_crm_converts_the_lead_and_prm_sends_the_won_status(sf_connection, fake_sf, account,
                                                                               member, rep):
    registration = deal_decide(registration=submit(member), by=rep, decision="approve", reason="Go")
    crm_push_pending()
    opp = opportunity(fake_sf, registration)
    assert (opp["PRM_Registration_Status__c"], opp["PRM_Decision_Reason__c"]) == ("Approved", "Go")
    fake_sf.put("Opportunity", opp["Id"], StageName="Closed Won")
    pull(sf_connection)
    registration.refresh_from_db()
    lead = Lead.objects.get(pk=registration.lead_id)
    assert (registration.status, lead.stage, lead.value) == (Status.WON, "won", Decimal("5000.00"))
    assert Customer.objects.filter(lead=lead).exists()
    assert Notification.objects.filter(recipient=member.user, body__startswith="Salesforce confirmed the win").exists()
    assert Event.objects.filter(topic="deal.updated", subject_id=registration.pk).exists()
    crm_push_pending()  # the status label follows (the CAM changed StageName only)
    assert (opportunity(fake_sf, registration)["PRM_Registration_Status__c"],
            opportunity(fake_sf, registration)["StageName"]) == ("Won", "Closed Won")
    history = DealEvent.objects.count()
    pull(sf_connection)
    assert DealEvent.objects.count() == history and not SyncLog.objects.exists()


def test_stage_both_ways_and_closed_lost_in_the_crm(sf_connection, fake_sf, account, member, rep):
    registration = deal_decide(registration=submit(member), by=rep, decision="approve", reason="Go")
    crm_push_pending()
    assert deal_stage_set(registration=registration, member=member, stage="proposal")
    assert Event.objects.filter(topic="deal.updated", subject_id=registration.pk).count() == 1
    crm_push_pending()
    opp = opportunity(fake_sf, registration)
    assert opp["StageName"] == "Proposal/Price Quote"
    fake_sf.put("Opportunity", opp["Id"], StageName="Negotiation/Review", Amount=7500.5, CloseDate="2027-06-30")
    pull(sf_connection)
    registration.refresh_from_db()
    assert (registration.stage, registration.amount, registration.expected_close) == (
        "negotiation", Decimal("7500.50"), date(2027, 6, 30))
    assert DealEvent.objects.filter(registration=registration, note="Stage: Negotiation (in Salesforce).").exists()
    writes = opportunity_writes(fake_sf)
    crm_push_pending()  # deal.updated of that change: nothing to send back
    assert opportunity_writes(fake_sf) == writes
    fake_sf.put("Opportunity", opp["Id"], StageName="Closed Lost", PRM_Decision_Reason__c="Went with a competitor")
    pull(sf_connection)
    registration.refresh_from_db()
    lead = Lead.objects.get(pk=registration.lead_id)
    assert registration.status == Status.LOST
    assert (lead.stage, lead.lost_reason) == ("lost", "Went with a competitor")
    assert Notification.objects.filter(recipient=member.user, title__startswith="Deal lost").exists()
    crm_push_pending()
    assert opportunity(fake_sf, registration)["PRM_Registration_Status__c"] == "Lost"


def test_opportunities_not_from_prm_are_skipped(sf_connection, fake_sf, account):
    fake_sf.put("Opportunity", Name="Direct deal", StageName="Prospecting", CloseDate="2027-01-31", AccountId=account)
    fake_sf.put("Opportunity", Name="Junk key", StageName="Prospecting", CloseDate="2027-01-31", PRM_Deal_Id__c="x1")
    fake_sf.put("Opportunity", Name="Unknown id", StageName="Prospecting", CloseDate="2027-01-31",
                PRM_Deal_Id__c="999999")
    run = pull(sf_connection)
    assert run.skipped >= 3 and run.errors == 0
    assert not DealRegistration.objects.exists() and not ExternalRef.objects.filter(object="deal").exists()


def test_a_step_prm_does_not_allow_is_logged_and_the_rest_of_the_page_applied(sf_connection, fake_sf, account,
                                                                               member, rep):
    refused = deal_decide(registration=submit(member, company="Refused"), by=rep, decision="reject", reason="No")
    waiting = submit(member, company="Waiting")
    crm_push_pending()
    draft = deal_save(member=member, **{**FIELDS, "company": "Draft"})
    fake_sf.put("Opportunity", opportunity(fake_sf, refused)["Id"], PRM_Registration_Status__c="Approved")
    fake_sf.put("Opportunity", opportunity(fake_sf, waiting)["Id"], PRM_Registration_Status__c="Approved",
                Amount=6000)
    typed = fake_sf.put("Opportunity", Name="Typed by hand", StageName="Qualification", CloseDate="2027-01-31",
                        PRM_Deal_Id__c=str(draft.pk), PRM_Registration_Status__c="Approved")
    run = pull(sf_connection)
    assert run.errors == 2
    waiting.refresh_from_db()
    assert (waiting.status, waiting.amount) == (Status.APPROVED, Decimal("6000.00"))
    refused.refresh_from_db()
    draft.refresh_from_db()
    assert (refused.status, refused.lead_id, draft.status) == (Status.REJECTED, None, Status.DRAFT)
    logs = {log.record: log for log in SyncLog.objects.filter(run=run)}
    log = logs[opportunity(fake_sf, refused)["Id"]]
    assert log.error_code == "INVALID_VALUE"
    assert refused.number in log.message and "Rejected" in log.message and "Approved" in log.message
    assert logs[typed].error_code == "INVALID_VALUE" and "draft" in logs[typed].message
    assert not ExternalRef.objects.filter(object="deal", local_id=draft.pk, synced__has_key="status").exists()
    # PRM's status goes back with the registration's next push (here, asked for directly).
    connection_push(connection_id=sf_connection.pk, object="deal", local_ids=[refused.pk])
    opp = opportunity(fake_sf, refused)
    assert (opp["PRM_Registration_Status__c"], opp["StageName"]) == ("Rejected", "Closed Lost")


def test_a_partner_not_linked_yet_is_logged_and_pushed_with_the_next_event(sf_connection, fake_sf, member, rep, acme):
    registration = submit(member)
    crm_push_pending()
    assert not fake_sf.records["Opportunity"]
    assert SyncLog.objects.get(error_code="PARTNER_NOT_LINKED").record == str(registration.pk)
    account_id = fake_sf.put("Account", Name=acme.name, PRM_Code__c=acme.code)
    pull(sf_connection)
    deal_decide(registration=registration, by=rep, decision="approve", reason="Go")
    crm_push_pending()
    opp = opportunity(fake_sf, registration)
    assert (opp["AccountId"], opp["PRM_Registration_Status__c"], opp["StageName"]) == (
        account_id, "Approved", "Qualification")


def test_a_page_of_opportunities_costs_a_constant_number_of_queries(sf_connection, fake_sf, account, member,
                                                                    django_assert_num_queries):
    registrations = [submit(member, company=f"Co {i}") for i in range(45)]
    crm_push_pending()
    ctx = Context(connection=sf_connection, run=None, spec=DEAL,
                  mappings=list(sf_connection.mappings.filter(object="deal")))

    def page(chunk, amount, stage):
        return [{**opportunity(fake_sf, r), "LastModifiedDate": "2026-06-01T00:00:00.000+0000", "Amount": amount,
                 "StageName": stage} for r in chunk]

    pull_page_commit(ctx, page(registrations[:2], 50, "Qualification"), Counts())  # warm up: creates the cursor
    for chunk, amount, stage in ((registrations[2:5], 100, "Proposal/Price Quote"),
                                 (registrations[5:], 200, "Negotiation/Review")):
        # SAVEPOINT + RELEASE (the page) = 2; ExternalRefs of the page = 1; the registrations = 1;
        # deals_sync_apply: SAVEPOINT, the registrations, 1 UPDATE of the amounts and stages, 1 INSERT of the
        # history rows, 1 INSERT of the deal.updated events, RELEASE = 6; ExternalRefs upsert = 1; the cursor:
        # SAVEPOINT, SELECT, UPDATE, RELEASE = 4. Not queried: registrations by PRM_Deal_Id__c (all linked), the
        # SyncLog insert (no errors).
        with django_assert_num_queries(15):
            pull_page_commit(ctx, page(chunk, amount, stage), Counts())
    assert DealRegistration.objects.filter(amount=Decimal("200"), stage="negotiation").count() == 40
    assert Event.objects.filter(topic="deal.updated").count() == 45


def test_every_change_of_a_registration_emits_an_event_the_push_sees(db, member, rep):
    """deal.updated wherever a registration changes without deal.submitted / deal.decided (webhooks and the push)."""

    def approved(company):
        return deal_decide(registration=submit(member, company=company), by=rep, decision="approve", reason="Go")

    def updates(registration):
        return Event.objects.filter(topic="deal.updated", subject_id=registration.pk).count()

    one = approved("One")
    deal_stage_set(registration=one, member=member, stage="proposal")
    deal_extension_request(registration=one, member=member, note="More time")
    deal_extension_decide(registration=one, by=rep, grant=True)
    deal_report_won(registration=one, member=member)
    deal_refuse_won(registration=one, by=rep, reason="No PO yet")
    deal_report_won(registration=one, member=member)
    deal_confirm_won(registration=one, by=rep)
    assert updates(one) == 7
    two = approved("Two")
    deal_report_lost(registration=two, member=member, reason="Budget cut")
    assert updates(two) == 1
    three = approved("Three")
    three.refresh_from_db()
    assert deals_expire(now=three.protection_expires_at) == 1
    event = Event.objects.get(topic="deal.updated", subject_id=three.pk)
    assert (event.subject_type, event.payload["status"], event.payload["number"]) == ("deal", "expired", three.number)


def test_the_deal_mappings_are_listed_and_editable(admin_client, sf_connection):
    html = admin_client.get(reverse("crm:detail", args=[sf_connection.pk])).content.decode()
    assert "PRM_Registration_Status__c" in html and "StageName" in html
    mapping = sf_connection.mappings.get(object="deal", local_field="stage")
    page = admin_client.get(reverse("crm:mapping", args=[sf_connection.pk, mapping.pk]))
    assert page.status_code == 200 and "Proposal/Price Quote" in page.content.decode()


def test_a_deal_mapping_preview_names_and_links_the_registration(admin_client, sf_connection, fake_sf, account,
                                                                 member):
    registration = submit(member)
    crm_push_pending()
    fake_sf.put("Opportunity", opportunity(fake_sf, registration)["Id"], Amount=999)
    fake_sf.put("Opportunity", AccountId=account, Name="Not ours", StageName="Prospecting", CloseDate="2027-01-01")
    mapping = sf_connection.mappings.get(object="deal", local_field="amount")
    response = admin_client.post(reverse("crm:mapping", args=[sf_connection.pk, mapping.pk]), {
        "remote_field": "Amount", "direction": "both", "apply_on": "update", "conflict_rule": "latest_wins",
        "preview": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{reverse("deals:detail", args=[registration.pk])}"' in html and registration.company in html
    assert "not linked yet" in html and "a new record would get" not in html  # opportunities are never created here


def test_an_opportunity_deleted_in_the_crm_changes_nothing_in_prm(sf_connection, fake_sf, account, member):
    registration = submit(member)
    crm_push_pending()
    fake_sf.delete("Opportunity", opportunity(fake_sf, registration)["Id"])
    run = pull(sf_connection)
    assert run.errors == 0 and DealRegistration.objects.get(pk=registration.pk).status == Status.SUBMITTED
    assert ExternalRef.objects.get(object="deal", local_id=registration.pk).deleted_remotely
