"""Leads ↔ Lead, both ways, through the real connector against the local Salesforce: pull (paging, resume, links,
stage ↔ Status, deletion), push from the outbox's "crm" consumer (lead.* events), and no echo either way."""

from integrations.models import Connection, ExternalRef, SyncCursor, SyncLog
from integrations.services import connection_pull, crm_push_pending
from integrations.sync import LEAD, Context, Counts, pull_page_commit
from leads.models import Customer, Lead, LeadStageChange
from leads.services import lead_create, lead_lose, lead_move, lead_update
from outbox.models import Event
from tests.integrations.fake_salesforce import PAGE_SIZE


def _leads(fake_sf, count, **extra):
    fake_sf.bulk_load("Lead", [{"LastName": f"Lead {i}", "Company": f"Co {i}", "Email": f"l{i}@example.com",
                                "Status": "Open - Not Contacted", **extra} for i in range(count)])


def _remote(fake_sf, lead):
    return next(r for r in fake_sf.records["Lead"].values() if r.get("PRM_Lead_Id__c") == str(lead.pk))


def test_initial_pull_pages_creates_leads_with_history_and_events_once(sf_connection, fake_sf):
    _leads(fake_sf, 2100)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.errors, run.message) == ("ok", 0, "")
    assert run.pages == 2 and PAGE_SIZE == 2000 and (run.received, run.created) == (2100, 2100)
    lead = Lead.objects.get(name="Lead 7")
    assert (lead.company, lead.email, lead.stage, lead.partner_id) == ("Co 7", "l7@example.com", "new", None)
    assert LeadStageChange.objects.filter(from_stage="", to_stage="new").count() == 2100
    assert Event.objects.filter(topic="lead.created").count() == 2100
    assert ExternalRef.objects.filter(object="lead").count() == 2100
    assert SyncCursor.objects.filter(object="lead").exists()
    again = connection_pull(connection_id=sf_connection.pk).run
    assert (again.received, again.created, again.updated) == (0, 0, 0)
    assert Lead.objects.count() == 2100


def test_resume_after_crash_mid_leads(sf_connection, fake_sf):
    _leads(fake_sf, 4100)
    original = fake_sf._page

    def crash_on_second(locator, offset):
        if offset == 2000:
            raise ConnectionResetError("worker lost")
        return original(locator, offset)

    fake_sf._page = crash_on_second
    assert connection_pull(connection_id=sf_connection.pk).run.status == "failed"
    assert Lead.objects.count() == 2000
    fake_sf._page = original
    Connection.objects.filter(pk=sf_connection.pk).update(next_attempt_at=None)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.received, run.created) == ("ok", 2100, 2100)
    assert Lead.objects.count() == 4100


def test_a_pulled_lead_gets_our_id_back_once_and_nothing_echoes(sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    remote_id = fake_sf.put("Lead", LastName="Ada", Company="Engines", Status="Working - Contacted")
    connection_pull(connection_id=sf_connection.pk)  # emits lead.created
    lead = Lead.objects.get()
    assert lead.stage == "contacted"
    assert crm_push_pending() == 1
    assert len(fake_sf.records["Lead"]) == 1  # updated on its Id, not a second Lead
    assert fake_sf.records["Lead"][remote_id]["PRM_Lead_Id__c"] == str(lead.pk)
    run = connection_pull(connection_id=sf_connection.pk).run  # the echo of that push
    assert (run.received, run.skipped, run.updated) == (1, 1, 0)
    assert crm_push_pending() == 0


def test_a_lead_made_and_moved_in_prm_is_pushed_with_its_status(sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    lead = lead_create(by=None, name="Grace", company="Navy", email="grace@example.com")
    assert crm_push_pending() == 1
    remote = _remote(fake_sf, lead)
    assert (remote["LastName"], remote["Company"], remote["Email"], remote["Status"]) == (
        "Grace", "Navy", "grace@example.com", "Open - Not Contacted")
    lead_move(lead=lead, to_stage="qualified", by=None)
    lead_lose(lead=Lead.objects.get(pk=lead.pk), by=None, reason="No budget")
    assert crm_push_pending() == 2  # two lead.stage_changed events, one push
    assert _remote(fake_sf, lead)["Status"] == "Closed - Not Converted" and len(fake_sf.records["Lead"]) == 1
    run = connection_pull(connection_id=sf_connection.pk).run  # our own writes come back: nothing changes
    assert (run.received, run.updated, run.created, run.skipped) == (1, 0, 0, 1)
    assert LeadStageChange.objects.filter(lead=lead).count() == 3  # created, qualified, lost: no echo


def test_status_changes_in_the_crm_move_the_lead(sf_connection, fake_sf):
    ids = [fake_sf.put("Lead", LastName=f"L{i}", Company="C", Status="Open - Not Contacted") for i in range(4)]
    connection_pull(connection_id=sf_connection.pk)
    fake_sf.put("Lead", ids[0], Status="Working - Qualified")
    fake_sf.put("Lead", ids[1], Status="Closed - Converted")
    fake_sf.put("Lead", ids[2], Status="Closed - Not Converted")
    fake_sf.put("Lead", ids[3], Status="Nurturing")  # not one of ours
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.received, run.updated, run.errors) == (4, 3, 1)
    leads = {lead.name: lead for lead in Lead.objects.all()}
    assert leads["L0"].stage == "qualified"
    won, lost = leads["L1"], leads["L2"]
    assert won.stage == "won" and won.converted_at is not None and Customer.objects.get(lead=won).name == "L1"
    assert lost.stage == "lost" and lost.lost_reason == "Closed in the CRM" and lost.lost_at is not None
    assert Event.objects.filter(topic="lead.converted", subject_id=won.pk).count() == 1
    assert Event.objects.filter(topic="lead.stage_changed").count() == 2
    assert LeadStageChange.objects.filter(lead=won, from_stage="new", to_stage="won").exists()
    log = SyncLog.objects.get(run=run)
    assert log.record == ids[3] and "Nurturing" in log.message and leads["L3"].stage == "new"
    # A closed lead is not reopened by the CRM: logged, left as it is.
    fake_sf.put("Lead", ids[2], Status="Open - Not Contacted")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.errors == 1 and Lead.objects.get(pk=lost.pk).stage == "lost"
    assert "can't be moved" in SyncLog.objects.get(run=run).message


def test_deleted_lead_closes_the_open_lead_as_lost(sf_connection, fake_sf):
    going = fake_sf.put("Lead", LastName="Going", Company="C", Status="Working - Contacted")
    connection_pull(connection_id=sf_connection.pk)
    fake_sf.delete("Lead", going)
    run = connection_pull(connection_id=sf_connection.pk).run
    lead = Lead.objects.get()
    assert (lead.stage, lead.lost_reason) == ("lost", "Deleted in the CRM")
    assert run.errors == 0 and ExternalRef.objects.get(object="lead").deleted_remotely


def test_a_lead_carrying_our_id_links_to_that_lead(sf_connection, fake_sf):
    lead = lead_create(by=None, name="Ours", company="Here")
    fake_sf.put("Lead", LastName="Ours", Company="Here", Status="Open - Not Contacted", PRM_Lead_Id__c=str(lead.pk))
    fake_sf.put("Lead", LastName="Junk key", Company="X", Status="Open - Not Contacted", PRM_Lead_Id__c="abc")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.created == 1 and Lead.objects.count() == 2
    assert ExternalRef.objects.filter(object="lead", local_id=lead.pk).exists()


def test_bad_values_are_logged_and_the_rest_of_the_page_is_written(sf_connection, fake_sf):
    fake_sf.put("Lead", LastName="Fine", Company="C", Status="Open - Not Contacted")
    bad = fake_sf.put("Lead", LastName="Bad mail", Company="C", Email="not-an-email", Status="Open - Not Contacted")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.created == 1 and run.errors == 1
    log = SyncLog.objects.get(run=run)
    assert (log.record, log.error_code) == (bad, "INVALID_VALUE") and "email" in log.message


def test_a_page_of_leads_costs_a_constant_number_of_queries(sf_connection, fake_sf, django_assert_num_queries):
    ctx = Context(connection=sf_connection, run=None, spec=LEAD,
                  mappings=list(sf_connection.mappings.filter(object="lead")))

    def page(count, offset):
        return [{"Id": f"00Q{offset + i:015d}", "LastModifiedDate": "2026-01-01T00:00:00.000+0000",
                 "IsDeleted": False, "LastName": f"L {i}", "Company": "C", "Email": "", "Phone": "",
                 "Status": "Open - Not Contacted", "PRM_Lead_Id__c": None} for i in range(count)]

    pull_page_commit(ctx, page(5, 0), Counts())  # warm up
    for count, offset in ((10, 100), (300, 1000)):
        # SAVEPOINT + RELEASE (the page) = 2; ExternalRefs of the page = 1; leads_sync_upsert: SAVEPOINT, INSERT of
        # the leads, INSERT of their history, INSERT of the lead.created events, RELEASE = 5; ExternalRefs upsert =
        # 1; the cursor: SAVEPOINT, SELECT FOR UPDATE, UPDATE, RELEASE = 4. Not queried: leads by our key (no record
        # carries one), the linked leads (none), the SyncLog insert (no errors).
        with django_assert_num_queries(13):
            pull_page_commit(ctx, page(count, offset), Counts())
    assert Lead.objects.count() == 315


def test_an_edit_in_prm_is_pushed_at_once_and_not_echoed(sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    lead = lead_create(by=None, name="Grace", company="Navy", email="grace@example.com")
    assert crm_push_pending() == 1
    assert lead_update(lead=lead, by=None, company="US Navy", phone="+1 555 0100") == ["company", "phone"]
    assert crm_push_pending() == 1  # the lead.updated event
    remote = _remote(fake_sf, lead)
    assert (remote["Company"], remote["Phone"], remote["Status"]) == ("US Navy", "+1 555 0100", "Open - Not Contacted")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.received, run.updated, run.skipped) == (1, 0, 1)
    assert not Event.objects.filter(topic="lead.updated", pending_for__contains=["crm"]).exists()
    fake_sf.put("Lead", remote["Id"], Email="grace.hopper@example.com")  # and back: a CRM edit, no stage change
    connection_pull(connection_id=sf_connection.pk)
    assert Lead.objects.get(pk=lead.pk).email == "grace.hopper@example.com"
    event = Event.objects.filter(topic="lead.updated").latest("id")
    assert event.payload["changed"] == ["email"] and "email" not in {k for k in event.payload if k != "changed"}
    before = len(fake_sf.calls)
    assert crm_push_pending() == 1 and not any("composite" in path for _m, path in fake_sf.calls[before:])
