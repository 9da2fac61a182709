"""webhooks.services against the real database, a real HTTP receiver on 127.0.0.1 that verifies every signature with
the Standard Webhooks reference library, and the real outbox."""

import json
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notifications_send_pending_emails
from outbox.services import EventSpec, events_emit
from tests import factories
from tests.webhooks.receiver import start_receiver
from webhooks import crypto, targets
from webhooks.models import Delivery, Endpoint
from webhooks.sender import NOT_SENT, Message, Sender
from webhooks.services import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    deliveries_fan_out,
    deliveries_purge,
    deliveries_send_due,
    delivery_resend,
    endpoint_create,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
    endpoints_disable_failing,
)

pytestmark = pytest.mark.django_db


def emit(count, topic="partner.updated", start=1):
    events_emit(events=[EventSpec(topic=topic, subject_type="partner", subject_id=start + n,
                                  payload={"id": start + n, "name": f"Partner <{start + n}>", "value": "12.50"})
                        for n in range(count)])


def later(seconds=0, **kwargs):
    return timezone.now() + timedelta(seconds=seconds, **kwargs)


# --- Endpoints ------------------------------------------------------------------------------------------------------


def test_create_returns_the_secret_once_and_stores_it_encrypted(allow_private, manager):
    endpoint, secret = endpoint_create(owner=manager, url="http://127.0.0.1:9/hook", events=["lead.created"],
                                       description="  BI   sync ")
    stored = Endpoint.objects.get()
    assert secret.startswith("whsec_") and secret not in stored.secret_encrypted
    assert crypto.decrypt(stored.secret_encrypted) == secret
    assert stored.description == "BI sync" and stored.events == ["lead.created"] and stored.is_active


def test_reps_may_not_register_webhooks(allow_private, rep):
    with pytest.raises(PermissionDenied):
        endpoint_create(owner=rep, url="http://127.0.0.1:9/hook", events=[])
    assert not Endpoint.objects.exists()


def test_private_urls_are_refused_at_save_when_the_setting_is_off(settings, manager):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    for url in ("http://127.0.0.1:8000/hook", "http://localhost/hook", "http://169.254.169.254/"):
        with pytest.raises(ValidationError) as error:
            endpoint_create(owner=manager, url=url, events=[])
        assert "public addresses" in error.value.message_dict["url"][0]
    with pytest.raises(ValidationError) as error:
        endpoint_create(owner=manager, url="https://93.184.216.34/hook", events=["nope.topic"])
    assert error.value.message_dict == {"events": ["Unknown events: nope.topic."]}
    assert not Endpoint.objects.exists()


def test_only_the_owner_or_an_admin_changes_an_endpoint(make_endpoint):
    endpoint, _secret = make_endpoint()
    other = factories.manager_user(username="other-manager")
    with pytest.raises(PermissionDenied):
        endpoint_rotate_secret(endpoint=endpoint, by=other)
    admin = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    endpoint, new_secret = endpoint_rotate_secret(endpoint=endpoint, by=admin)
    assert crypto.decrypt(endpoint.secret_encrypted) == new_secret


# --- Fan-out --------------------------------------------------------------------------------------------------------


def test_fan_out_makes_one_delivery_per_subscribed_active_endpoint(make_endpoint, receiver):
    owner = factories.manager_user(username="fan-owner")
    every, _ = make_endpoint(owner=owner)
    leads_only, _ = make_endpoint(owner=owner, events=["lead.created"])
    switched_off, _ = make_endpoint(owner=owner)
    endpoint_update(endpoint=switched_off, by=owner, url=switched_off.url, description="", events=[], is_active=False)
    gone_owner = factories.manager_user(username="gone")
    of_inactive_user, _ = make_endpoint(owner=gone_owner)
    type(gone_owner).objects.filter(pk=gone_owner.pk).update(is_active=False)
    emit(3, topic="partner.updated")
    emit(2, topic="lead.created", start=100)
    run = deliveries_fan_out()
    assert (run.events, run.deliveries) == (5, 7)
    rows = Delivery.objects.order_by("endpoint_id", "event_id")
    assert [d.topic for d in rows if d.endpoint_id == every.pk] == ["partner.updated"] * 3 + ["lead.created"] * 2
    assert [d.topic for d in rows if d.endpoint_id == leads_only.pk] == ["lead.created"] * 2
    assert not rows.filter(endpoint__in=[switched_off, of_inactive_user]).exists()
    first = rows.filter(endpoint=every).first()
    assert first.message_id.startswith("msg_") and len(first.message_id) == 36
    assert first.payload == {"id": 1, "name": "Partner <1>", "value": "12.50"} and first.state == "pending"
    # the events are consumed: a second run finds nothing and makes nothing twice
    assert deliveries_fan_out().deliveries == 0
    assert Delivery.objects.count() == 7


def test_fan_out_is_set_based(make_endpoint):
    """The same number of queries for 2 events to 1 endpoint as for 1,500 events (two batches) to 5: per batch the
    outbox's claim and one INSERT … SELECT FROM unnest(events) JOIN endpoints (plus the batch's savepoint)."""
    owner = factories.manager_user(username="set-owner")
    make_endpoint(owner=owner)
    emit(2)
    with CaptureQueriesContext(connection) as small:
        assert deliveries_fan_out().deliveries == 2
    for _ in range(4):
        make_endpoint(owner=owner)
    emit(999, start=10)
    with CaptureQueriesContext(connection) as large:
        assert deliveries_fan_out().deliveries == 999 * 5
    assert len(small) == len(large), [q["sql"][:80] for q in large]
    emit(1500, start=5000)
    with CaptureQueriesContext(connection) as two_batches:
        run = deliveries_fan_out()
    assert (run.batches, run.deliveries) == (2, 7500)
    assert len(two_batches) == 2 * len(small)


# --- Sending --------------------------------------------------------------------------------------------------------


def test_delivery_is_signed_per_standard_webhooks_and_recorded(make_endpoint, receiver, sender):
    endpoint, _secret = make_endpoint()
    emit(3)
    deliveries_fan_out()
    run = deliveries_send_due(using=sender)
    assert (run.claimed, run.delivered) == (3, 3)
    assert len(receiver.received) == 3 and all(item.verified for item in receiver.received), receiver.received
    item = receiver.received[0]
    body = item.json
    assert set(body) == {"type", "timestamp", "data"} and body["type"] == "partner.updated"
    assert body["timestamp"].endswith("Z") and body["data"]["name"].startswith("Partner <")
    assert item.signature.startswith("v1,") and abs(int(item.timestamp) - timezone.now().timestamp()) < 60
    delivery = Delivery.objects.get(message_id=item.message_id)
    assert delivery.state == "delivered" and delivery.attempts == 1 and delivery.last_status == 200
    assert delivery.delivered_at and delivery.last_duration_ms is not None and delivery.claim_token is None
    assert deliveries_send_due(using=sender).claimed == 0  # nothing is sent twice


def test_a_tampered_body_or_another_secret_does_not_verify(make_endpoint, receiver, sender):
    """The receiver's check is a real one: a secret it was not given fails verification."""
    _endpoint, secret = make_endpoint()
    receiver.secrets[:] = [secret.replace(secret[10], "A" if secret[10] != "A" else "B", 1)]
    emit(1)
    deliveries_fan_out()
    deliveries_send_due(using=sender)
    assert receiver.received and not receiver.received[0].verified


def test_retry_with_backoff_then_delivered(make_endpoint, receiver, sender):
    make_endpoint()
    receiver.statuses[:] = [500]
    emit(1)
    deliveries_fan_out()
    run = deliveries_send_due(using=sender)
    assert (run.claimed, run.delivered, run.retrying) == (1, 0, 1)
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1 and delivery.last_status == 500
    assert delivery.last_error == "HTTP 500"
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert RETRY_DELAYS[0] * 0.5 <= wait < RETRY_DELAYS[0] * 1.5
    assert delivery.endpoint.failing_since == delivery.last_attempt_at
    assert deliveries_send_due(using=sender).claimed == 0  # not due yet
    run = deliveries_send_due(using=sender, now=later(10))
    assert (run.claimed, run.delivered) == (1, 1)
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 2 and delivery.last_status == 200
    assert len(receiver.received) == 2 and receiver.received[0].message_id == receiver.received[1].message_id
    assert all(item.verified for item in receiver.received)
    assert Endpoint.objects.get().failing_since is None  # a success clears the failure record


def test_dead_letter_after_the_last_attempt_then_send_again(make_endpoint, receiver, sender, manager):
    endpoint, _ = make_endpoint(owner=manager)
    receiver.default = 503
    emit(1)
    deliveries_fan_out()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run = deliveries_send_due(using=sender, now=later(hours=30 * attempt))
        assert run.claimed == 1
        delivery = Delivery.objects.get()
        assert delivery.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            waits.append(delivery.next_attempt_at - delivery.last_attempt_at)
    assert delivery.state == "failed" and delivery.next_attempt_at is None and delivery.last_status == 503
    for wait, base in zip(waits, RETRY_DELAYS, strict=True):
        assert base * 0.5 <= wait < base * 1.5
    assert timedelta(hours=23) < sum(RETRY_DELAYS, timedelta()) < timedelta(hours=25)  # "about a day"
    assert deliveries_send_due(using=sender, now=later(days=10)).claimed == 0  # dead: never again by itself
    # send again: the same message id, a fresh schedule
    receiver.default = 200
    assert delivery_resend(delivery=delivery, by=manager)
    run = deliveries_send_due(using=sender)
    assert run.delivered == 1
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 1
    assert {item.message_id for item in receiver.received} == {delivery.message_id}
    assert len(receiver.received) == MAX_ATTEMPTS + 1


def test_send_again_is_refused_while_in_flight_and_for_switched_off_endpoints(make_endpoint, manager):
    endpoint, _ = make_endpoint(owner=manager)
    delivery = endpoint_send_test(endpoint=endpoint, by=manager)
    Delivery.objects.filter(pk=delivery.pk).update(claim_token="00000000-0000-0000-0000-000000000001",
                                                   next_attempt_at=later(60))
    assert delivery_resend(delivery=delivery, by=manager) is False
    endpoint_update(endpoint=endpoint, by=manager, url=endpoint.url, description="", events=[], is_active=False)
    delivery.refresh_from_db()
    with pytest.raises(ValidationError, match="Switch the endpoint on"):
        delivery_resend(delivery=delivery, by=manager)


def test_test_event(make_endpoint, receiver, sender, manager):
    endpoint, _ = make_endpoint(owner=manager)
    delivery = endpoint_send_test(endpoint=endpoint, by=manager)
    assert deliveries_send_due(using=sender).delivered == 1
    assert receiver.received[0].verified and receiver.received[0].message_id == delivery.message_id
    assert receiver.received[0].json["type"] == "webhook.test"


def test_ssrf_refused_at_delivery_time_when_the_setting_is_off(make_endpoint, receiver, sender, settings):
    """An endpoint saved while private targets were allowed, then the setting switched off: nothing reaches the
    receiver; the attempt is logged as refused and retried like any failure."""
    make_endpoint()
    emit(1)
    deliveries_fan_out()
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    run = deliveries_send_due(using=sender)
    assert (run.claimed, run.delivered, run.retrying) == (1, 0, 1)
    assert receiver.received == []
    delivery = Delivery.objects.get()
    assert delivery.last_status is None and delivery.last_error.startswith("Refused: 127.0.0.1 resolves to 127.0.0.1")


def test_a_pinned_request_goes_to_the_checked_address_with_the_original_host(make_endpoint, receiver, sender):
    """What the guard hands the sender for a public name (webhooks.targets.target): the URL with the checked address,
    and the name as the Host header (and TLS server name). The request must go to the address and carry the name."""
    _endpoint, secret = make_endpoint()
    pinned = targets.Target(url=receiver.url, host_header="hooks.example.com", sni_hostname=None)
    message = Message(key=1, url=receiver.url, message_id="msg_pinned", body='{"a":1}', secret=secret)
    outcome = sender._post(message, pinned)
    assert outcome.ok and outcome.status == 200
    assert receiver.received[0].host == "hooks.example.com" and receiver.received[0].verified


def test_a_hanging_receiver_costs_one_timeout_and_does_not_hold_up_the_others(allow_private, receiver, manager):
    hanging = start_receiver()
    hanging.delay = 3
    try:
        _fine, secret = endpoint_create(owner=manager, url=receiver.url, events=[])
        receiver.secrets.append(secret)
        endpoint_create(owner=manager, url=hanging.url, events=[])
        emit(40)
        assert deliveries_fan_out().deliveries == 80
        with Sender(concurrency=8, timeout=1) as sender:
            started = time.monotonic()
            run = deliveries_send_due(using=sender)
            elapsed = time.monotonic() - started
        assert (run.claimed, run.delivered, run.retrying) == (80, 40, 40)
        assert elapsed < 3, elapsed  # about one timeout (1 s), not 40 × 1 s spread over 4 threads (10 s)
        assert len(receiver.verified_ids()) == 40
        errors = Counter(Delivery.objects.filter(state="pending").values_list("last_error", flat=True))
        assert errors == {"Timed out (ReadTimeout) after 1 s": 4, NOT_SENT: 36}  # one try per thread of its share
    finally:
        hanging.server.shutdown()
        hanging.server.server_close()


def test_redirects_are_not_followed(make_endpoint, receiver, sender):
    make_endpoint()
    receiver.statuses[:] = [307]
    emit(1)
    deliveries_fan_out()
    deliveries_send_due(using=sender)
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.last_error == "HTTP 307 (redirects are not followed)"
    assert len(receiver.received) == 1


def test_a_receiver_that_is_down_is_a_failure_not_an_error(allow_private, manager, sender):
    endpoint, _ = endpoint_create(owner=manager, url="http://127.0.0.1:9/hook", events=[])  # nothing listens on 9
    endpoint_send_test(endpoint=endpoint, by=manager)
    run = deliveries_send_due(using=sender)
    assert run.retrying == 1
    assert "ConnectError" in Delivery.objects.get().last_error


def test_an_unreadable_secret_fails_the_delivery_with_a_clear_error(make_endpoint, receiver, sender, settings,
                                                                  manager):
    endpoint, _ = make_endpoint(owner=manager)
    endpoint_send_test(endpoint=endpoint, by=manager)
    settings.SECRET_KEY = "a-rotated-secret-key-" + "z" * 40
    assert deliveries_send_due(using=sender).retrying == 1
    assert receiver.received == []
    assert "rotate the endpoint's secret" in Delivery.objects.get().last_error


def test_a_lease_that_ran_out_is_claimed_again_and_the_old_claim_cannot_write(make_endpoint, receiver, sender, manager):
    endpoint, _ = make_endpoint(owner=manager)
    delivery = endpoint_send_test(endpoint=endpoint, by=manager)
    stale = "00000000-0000-0000-0000-0000000000aa"
    Delivery.objects.filter(pk=delivery.pk).update(claim_token=stale, next_attempt_at=later(-1), attempts=1)
    assert deliveries_send_due(using=sender).delivered == 1  # a crashed worker's row, due again
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 2 and delivery.claim_token is None


# --- Auto-disable ---------------------------------------------------------------------------------------------------


def test_an_endpoint_failing_for_days_is_disabled_and_its_owner_and_admins_notified(make_endpoint, receiver, sender,
                                                                                   settings):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 3
    owner = factories.manager_user(username="owner-of-hook")
    admin = factories.UserFactory(username="admin", is_superuser=True, is_staff=True)
    bystander = factories.manager_user(username="bystander")
    endpoint, _ = make_endpoint(owner=owner)
    receiver.default = 500
    emit(2)
    deliveries_fan_out()
    deliveries_send_due(using=sender)
    endpoint.refresh_from_db()
    first_failure = endpoint.failing_since
    assert first_failure is not None
    assert endpoints_disable_failing(now=first_failure + timedelta(days=2, hours=23)) == 0
    assert endpoints_disable_failing(now=first_failure + timedelta(days=3, minutes=1)) == 1
    assert endpoints_disable_failing(now=first_failure + timedelta(days=4)) == 0  # once
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at and "failed for 3 days" in endpoint.disabled_reason
    assert set(Delivery.objects.values_list("state", flat=True)) == {"failed"}  # pending ones dead-lettered
    notes = Notification.objects.filter(event=Notification.Event.WEBHOOK_DISABLED)
    assert sorted(notes.values_list("recipient__username", flat=True)) == ["admin", "owner-of-hook"]
    assert notes.first().link == f"/settings/webhooks/{endpoint.pk}/"
    assert not Notification.objects.filter(recipient=bystander).exists()
    assert notifications_send_pending_emails().sent == 2  # and by email, with the page's link
    assert {message.to[0] for message in mail.outbox} == {"owner-of-hook@example.com", "admin@example.com"}
    assert f"/settings/webhooks/{endpoint.pk}/" in mail.outbox[0].body
    assert "Webhook endpoint disabled" in mail.outbox[0].alternatives[0][0]
    # nothing more is fanned out to it; switching it on again clears the record
    emit(1, start=50)
    assert deliveries_fan_out().deliveries == 0
    endpoint_update(endpoint=endpoint, by=admin, url=endpoint.url, description="", events=[], is_active=True)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None and endpoint.disabled_reason == ""


def test_a_success_in_between_keeps_the_endpoint(make_endpoint, receiver, sender):
    endpoint, _ = make_endpoint()
    receiver.statuses[:] = [500]
    emit(1)
    deliveries_fan_out()
    deliveries_send_due(using=sender)
    assert Endpoint.objects.get().failing_since is not None
    emit(1, start=7)
    deliveries_fan_out()
    deliveries_send_due(using=sender, now=later(10))
    assert Endpoint.objects.get().failing_since is None
    assert endpoints_disable_failing(now=later(days=5)) == 0


def test_failing_deliveries_disable_the_endpoint_when_the_time_has_come(make_endpoint, receiver, sender, settings):
    """The check runs after every batch with failures."""
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 3
    endpoint, _ = make_endpoint()
    Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=3, minutes=5))
    receiver.default = 500
    emit(1)
    deliveries_fan_out()
    run = deliveries_send_due(using=sender)
    assert run.disabled == 1 and not Endpoint.objects.get().is_active


def test_purge_deletes_old_finished_deliveries_only(make_endpoint, manager, settings):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    endpoint, _ = make_endpoint(owner=manager)
    old_done, old_dead, old_pending, recent_done = [endpoint_send_test(endpoint=endpoint, by=manager) for _ in range(4)]
    Delivery.objects.filter(pk__in=[old_done.pk, old_dead.pk, old_pending.pk]).update(created_at=later(days=-31))
    Delivery.objects.filter(pk__in=[old_done.pk, recent_done.pk]).update(state="delivered")
    Delivery.objects.filter(pk=old_dead.pk).update(state="failed")
    assert deliveries_purge() == 2
    assert set(Delivery.objects.values_list("pk", flat=True)) == {old_pending.pk, recent_done.pk}


# --- Two workers ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_never_send_a_delivery_twice(make_endpoint, receiver):
    make_endpoint()
    emit(600)
    deliveries_fan_out()
    results, errors = [], []
    start = threading.Barrier(2)

    def worker():
        try:
            with Sender(concurrency=8, timeout=5) as own:
                start.wait()
                for _ in range(10):
                    run = deliveries_send_due(using=own, batch=50)
                    results.append(run.claimed)
                    if not run.claimed:
                        break
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    ids = receiver.verified_ids()
    assert len(ids) == 600 and len(set(ids)) == 600
    assert sum(results) <= 600
    assert Delivery.objects.filter(state="delivered", attempts=1).count() == 600


def test_the_body_keeps_the_payload_as_it_was(make_endpoint, receiver, sender):
    make_endpoint()
    events_emit(events=[EventSpec(topic="lead.converted", subject_type="lead", subject_id=9,
                                  payload={"ünïcode": "✓", "nested": {"list": [1, 2.5, None]}, "quote": "\"'<>"})])
    deliveries_fan_out()
    deliveries_send_due(using=sender)
    body = receiver.received[0].json
    assert body["data"] == {"ünïcode": "✓", "nested": {"list": [1, 2.5, None]}, "quote": "\"'<>"}
    assert json.loads(receiver.received[0].body)["type"] == "lead.converted"
