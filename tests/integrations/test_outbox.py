"""The outbox's "crm" consumer: claims partner events, pushes them, rolls the claim back on a connection fault."""

from integrations.models import Connection, SyncLog
from integrations.services import crm_push_pending
from outbox.models import Event
from outbox.services import EventSpec, events_emit
from tests.factories import PartnerFactory


def _emit(partners):
    events_emit(events=[EventSpec(topic="partner.updated", subject_type="partner", subject_id=p.pk, payload={})
                        for p in partners])


def _pending_for_crm():
    return Event.objects.filter(pending_for__contains=["crm"]).count()


def test_events_are_pushed_once(sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    partners = PartnerFactory.create_batch(3)
    _emit(partners + partners[:1])  # the same partner twice: pushed once
    assert crm_push_pending() == 4
    assert _pending_for_crm() == 0
    codes = {r.get("PRM_Code__c") for r in fake_sf.records["Account"].values()}
    assert codes == {p.code for p in partners}
    assert crm_push_pending() == 0  # nothing left: a second run does nothing


def test_a_fault_gives_the_events_back_and_backs_off(sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    _emit(PartnerFactory.create_batch(2))
    fake_sf.fail_next.append((503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}]))
    assert crm_push_pending() == 0
    assert _pending_for_crm() == 2
    sf_connection.refresh_from_db()
    assert sf_connection.failures == 1 and sf_connection.next_attempt_at is not None
    assert SyncLog.objects.filter(error_code="SERVER_UNAVAILABLE", direction="out").exists()
    assert crm_push_pending() == 0  # backing off: not claimed, no call
    Connection.objects.filter(pk=sf_connection.pk).update(next_attempt_at=None)
    assert crm_push_pending() == 2
    assert len(fake_sf.records["Account"]) == 2


def test_without_a_connection_the_events_are_let_go(db, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    _emit(PartnerFactory.create_batch(2))
    assert crm_push_pending() == 2
    assert _pending_for_crm() == 0


def test_a_pulled_account_gets_our_code_once_and_is_not_duplicated(sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    from integrations.services import connection_pull
    from partners.models import Partner

    account = fake_sf.put("Account", Name="From the CRM")
    connection_pull(connection_id=sf_connection.pk)  # emits partner.created
    partner = Partner.objects.get()
    assert crm_push_pending() == 1
    assert len(fake_sf.records["Account"]) == 1  # updated on its Id, not a second account
    assert fake_sf.records["Account"][account]["PRM_Code__c"] == partner.code
    run = connection_pull(connection_id=sf_connection.pk).run  # the echo of that push
    assert (run.received, run.skipped, run.updated) == (1, 1, 0)
    assert crm_push_pending() == 0
