"""The CRM down for an hour (issue 17's faults): the beat ticks every minute and PRM keeps changing, the CRM answers
503 to every call (its token endpoint too). The backoff keeps the calls to a handful, the connection is not marked
failing (nobody is told to re-enter credentials), and once the CRM is back both sides catch up from the cursor and the
outbox: nothing lost, nothing duplicated.

Time: the sync's deadlines are rows (``next_attempt_at``), so "a minute passes" moves them one minute back."""

from datetime import timedelta

from django.db.models import F

from integrations import tasks
from integrations.models import Connection, ExternalRef, SyncLog
from integrations.services import connection_pull, connection_push
from outbox.models import Event
from partners.models import Partner
from partners.services import partner_update
from tests.factories import PartnerFactory


def _minute_passes() -> None:
    Connection.objects.filter(next_attempt_at__isnull=False).update(
        next_attempt_at=F("next_attempt_at") - timedelta(minutes=1))


def _tick() -> None:
    """What beat and the outbox run each minute: the pull of every due connection and the push of pending events."""
    tasks.crm_pull_all()
    tasks.crm_push()
    _minute_passes()


def test_an_hour_down_costs_a_handful_of_calls_and_loses_nothing(sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    partners = PartnerFactory.create_batch(3)
    connection_push(connection_id=sf_connection.pk, object="account", local_ids=[p.pk for p in partners])
    assert connection_pull(connection_id=sf_connection.pk).run.status == "ok"  # links; the cursor is set
    account_of = {r["PRM_Code__c"]: r["Id"] for r in fake_sf.records["Account"].values()}

    fake_sf.down = True
    calls = len(fake_sf.calls)
    for minute in range(60):
        if minute == 10:
            partner_update(partner=partners[0], by=None, name="Renamed in PRM during the outage")
        if minute == 20:
            fake_sf.put("Account", account_of[partners[1].code], Name="Renamed in the CRM during the outage")
        if minute == 30:
            fake_sf.put("Account", Name="Created in the CRM during the outage")
        _tick()
    tried = len(fake_sf.calls) - calls
    sf_connection.refresh_from_db()
    # Backoff 1, 2, 4, 8, 16, 30 minutes: tries at minutes 0, 1, 3, 7, 15, 31 (pull or push, each one call).
    assert 5 <= tried <= 8, fake_sf.calls[calls:]
    assert sf_connection.status == Connection.Status.OK and sf_connection.failures == tried
    assert SyncLog.objects.filter(connection=sf_connection, error_code__in=["HTTP_503", "SERVER_UNAVAILABLE"]
                                  ).count() == tried
    assert Event.objects.filter(subject_type="partner", subject_id=partners[0].pk, pending_for__contains=["crm"]
                                ).exists()  # waiting, not dropped
    assert Partner.objects.get(pk=partners[1].pk).name == partners[1].name  # nothing half-applied

    fake_sf.down = False
    for _minute in range(31):  # at most one backoff step (30 minutes) until the next try
        _tick()
    sf_connection.refresh_from_db()
    assert (sf_connection.failures, sf_connection.next_attempt_at) == (0, None)
    account = fake_sf.records["Account"][account_of[partners[0].code]]
    assert account["Name"] == "Renamed in PRM during the outage"
    assert Partner.objects.get(pk=partners[1].pk).name == "Renamed in the CRM during the outage"
    created = Partner.objects.filter(name="Created in the CRM during the outage")
    assert created.count() == 1
    assert len(fake_sf.records["Account"]) == 4  # nothing created twice on either side
    assert ExternalRef.objects.filter(connection=sf_connection, object="account").count() == 4
    assert not Event.objects.filter(pending_for__contains=["crm"]).exists()
