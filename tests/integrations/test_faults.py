"""Remote faults: 401/403 → failing + managers notified, no retry storm; 429/503 → backoff; resumable."""

from django.utils import timezone

from integrations.models import Connection, SyncLog
from integrations.services import connection_pull, connection_set_credentials, connections_due
from notifications.models import Notification
from tests.factories import manager_user
from tests.integrations.fake_salesforce import CLIENT_ID, CLIENT_SECRET


def test_refused_credentials_mark_failing_notify_managers_and_stop(sf_connection, fake_sf):
    manager = manager_user(username="boss")
    fake_sf.put("Account", Name="Waiting")
    connection_set_credentials(connection=sf_connection, credentials={"client_id": CLIENT_ID, "client_secret": "bad"})
    run = connection_pull(connection_id=sf_connection.pk).run
    sf_connection.refresh_from_db()
    assert run.status == "failed" and sf_connection.status == Connection.Status.FAILING
    assert "invalid_client" in sf_connection.status_message
    note = Notification.objects.get(recipient=manager)
    assert note.event == "crm_sync_failing" and "Test org" in note.title
    # No retry storm: the beat skips it, a direct call is refused, the CRM sees no more calls.
    calls = len(fake_sf.calls)
    assert sf_connection.pk not in connections_due()
    assert connection_pull(connection_id=sf_connection.pk).run is None
    assert len(fake_sf.calls) == calls
    # New credentials: it runs again.
    connection_set_credentials(connection=sf_connection, credentials={"client_id": CLIENT_ID,
                                                                      "client_secret": CLIENT_SECRET})
    assert connection_pull(connection_id=sf_connection.pk).run.created == 1


def test_403_on_the_api_marks_failing(sf_connection, fake_sf):
    fake_sf.fail_next.append((403, [{"errorCode": "API_DISABLED_FOR_ORG", "message": "API is not enabled"}]))
    connection_pull(connection_id=sf_connection.pk)
    sf_connection.refresh_from_db()
    assert sf_connection.status == "failing"
    assert SyncLog.objects.filter(error_code="API_DISABLED_FOR_ORG").exists()


def test_expired_session_gets_one_new_token(sf_connection, fake_sf):
    fake_sf.put("Account", Name="After refresh")
    fake_sf.fail_next.append((401, [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired"}]))
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.created) == ("ok", 1)
    assert sum(1 for _m, path in fake_sf.calls if path == "/services/oauth2/token") == 2


def test_429_and_503_back_off_and_resume(sf_connection, fake_sf):
    fake_sf.put("Account", Name="Later")
    fake_sf.fail_next.append((503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "down for maintenance"}]))
    run = connection_pull(connection_id=sf_connection.pk).run
    sf_connection.refresh_from_db()
    assert run.status == "failed" and sf_connection.status == "ok" and sf_connection.failures == 1
    first_wait = sf_connection.next_attempt_at - timezone.now()
    assert 50 < first_wait.total_seconds() <= 60
    assert connection_pull(connection_id=sf_connection.pk).run is None  # backing off: not even tried
    Connection.objects.filter(pk=sf_connection.pk).update(next_attempt_at=None)
    fake_sf.fail_next.append((503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "still down"}]))
    connection_pull(connection_id=sf_connection.pk)
    sf_connection.refresh_from_db()
    assert sf_connection.failures == 2
    assert 110 < (sf_connection.next_attempt_at - timezone.now()).total_seconds() <= 120  # doubled
    Connection.objects.filter(pk=sf_connection.pk).update(next_attempt_at=None)
    fake_sf.fail_next.append((429, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}]))
    connection_pull(connection_id=sf_connection.pk)
    sf_connection.refresh_from_db()
    assert (sf_connection.next_attempt_at - timezone.now()).total_seconds() > 200  # 4 minutes
    Connection.objects.filter(pk=sf_connection.pk).update(next_attempt_at=None)
    run = connection_pull(connection_id=sf_connection.pk).run
    sf_connection.refresh_from_db()
    assert (run.status, run.created, sf_connection.failures) == ("ok", 1, 0)
    assert SyncLog.objects.filter(error_code__in=["SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"]).count() == 3


def test_credentials_are_encrypted_at_rest(sf_connection):
    stored = Connection.objects.values_list("credentials_encrypted", flat=True).get(pk=sf_connection.pk)
    assert CLIENT_SECRET not in stored and CLIENT_ID not in stored
