"""outbox.services against the real database: one INSERT per emit, nothing on rollback, one wake per transaction,
claims that never hand the same event to two concurrent workers, tombstones and the purge."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from outbox import services
from outbox.models import Event, Tombstone
from outbox.services import EventSpec, event_emit, events_claim, events_emit, outbox_purge, tombstones_record

CONSUMERS = {"alpha": "outbox.tests.alpha", "beta": "outbox.tests.beta"}


@pytest.fixture
def consumers(settings):
    settings.OUTBOX_CONSUMERS = CONSUMERS
    return CONSUMERS


def _specs(n, topic="partner.updated"):
    return [EventSpec(topic=topic, subject_type="partner", subject_id=i, payload={"id": i, "code": f"P{i}"})
            for i in range(1, n + 1)]


def test_many_events_are_one_insert_pending_for_every_consumer(db, consumers, django_assert_num_queries):
    with django_assert_num_queries(1):  # INSERT INTO outbox_event … (all 50 rows)
        assert events_emit(events=_specs(50)) == 50
    rows = list(Event.objects.order_by("id"))
    assert len(rows) == 50
    assert rows[0].topic == "partner.updated" and rows[0].payload == {"id": 1, "code": "P1"}
    assert all(row.pending_for == ["alpha", "beta"] for row in rows)


def test_no_events_no_query(db, consumers, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert events_emit(events=[]) == 0


def test_payload_takes_dates_and_decimals(db, consumers):
    from decimal import Decimal

    event_emit(topic="deal.decided", subject_type="deal", subject_id=7,
               payload={"value": Decimal("12.50"), "at": timezone.now().date()})
    payload = Event.objects.get().payload
    assert payload["value"] == "12.50" and len(payload["at"]) == 10


def test_the_consumers_are_woken_once_per_transaction_after_commit(db, consumers, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(services, "send_task_safely", sent.append)  # the broker boundary, not our code's logic
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            event_emit(topic="partner.created", subject_type="partner", subject_id=1, payload={})
            events_emit(events=_specs(3))
    assert len(callbacks) == 1
    assert sent == ["outbox.tests.alpha", "outbox.tests.beta"]


def test_a_rolled_back_savepoint_drops_its_events_and_the_wake_is_registered_again(
        db, consumers, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(services, "send_task_safely", sent.append)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    event_emit(topic="lead.created", subject_type="lead", subject_id=1, payload={})
                    raise RuntimeError("boom")
            except RuntimeError:
                pass
            assert not Event.objects.exists()
            event_emit(topic="lead.created", subject_type="lead", subject_id=2, payload={})
    assert len(callbacks) == 1 and len(sent) == 2
    assert list(Event.objects.values_list("subject_id", flat=True)) == [2]


def test_no_consumers_no_wake(db, settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_CONSUMERS = {}
    with django_capture_on_commit_callbacks() as callbacks:
        event_emit(topic="partner.created", subject_type="partner", subject_id=1, payload={})
    assert callbacks == [] and Event.objects.get().pending_for == []


def test_claim_takes_the_oldest_for_one_consumer_only(db, consumers, django_assert_num_queries):
    events_emit(events=_specs(5))
    with django_assert_num_queries(1):  # UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …
        first = events_claim(consumer="alpha", limit=3)
    assert [e.subject_id for e in first] == [1, 2, 3]
    assert first[0].payload == {"id": 1, "code": "P1"} and first[0].pending_for == ["beta"]
    assert [e.subject_id for e in events_claim(consumer="alpha", limit=10)] == [4, 5]
    assert events_claim(consumer="alpha", limit=10) == []
    assert [e.subject_id for e in events_claim(consumer="beta", limit=10)] == [1, 2, 3, 4, 5]
    assert not Event.objects.exclude(pending_for=[]).exists()
    assert events_claim(consumer="gamma", limit=10) == []


def test_the_claim_uses_the_partial_index(db, consumers):
    events_emit(events=_specs(3))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + services._CLAIM_SQL, ["alpha", "alpha", 10])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "outbox_event_pending_idx" in plan


def test_a_rolled_back_claim_gives_the_events_back(db, consumers):
    events_emit(events=_specs(2))
    with pytest.raises(RuntimeError), transaction.atomic():
        assert len(events_claim(consumer="alpha", limit=10)) == 2
        raise RuntimeError("the consumer failed")
    assert len(events_claim(consumer="alpha", limit=10)) == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_workers_never_claim_the_same_event(settings):
    settings.OUTBOX_CONSUMERS = CONSUMERS
    with transaction.atomic():
        events_emit(events=_specs(400))
    barrier = threading.Barrier(2)
    got: dict[int, list[int]] = {0: [], 1: []}
    errors = []

    def worker(slot):
        try:
            barrier.wait()
            while True:
                with transaction.atomic():
                    batch = events_claim(consumer="alpha", limit=7)
                    # hold the rows a moment, so the other worker's claim meets them locked
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(0.002)")
                if not batch:
                    return
                got[slot].extend(e.pk for e in batch)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert got[0] and got[1], "both workers took a share"
    assert not set(got[0]) & set(got[1])
    assert len(got[0]) + len(got[1]) == 400
    assert not Event.objects.filter(pending_for__contains=["alpha"]).exists()
    Event.objects.all().delete()


def test_tombstones_are_one_insert(db, django_assert_num_queries):
    with django_assert_num_queries(1):  # INSERT INTO outbox_tombstone … (all rows)
        assert tombstones_record(subject_type="target", subject_ids=[3, 4, 5]) == 3
    with django_assert_num_queries(0):
        assert tombstones_record(subject_type="target", subject_ids=[]) == 0
    assert sorted(Tombstone.objects.values_list("subject_type", "subject_id")) == [
        ("target", 3), ("target", 4), ("target", 5)]


def test_purge_keeps_pending_and_recent_rows(db, consumers, settings):
    now = timezone.now()
    events_emit(events=_specs(4))
    old = now - timedelta(days=settings.OUTBOX_EVENT_RETENTION_DAYS, minutes=1)
    ids = list(Event.objects.order_by("id").values_list("id", flat=True))
    Event.objects.filter(id=ids[0]).update(occurred_at=old, pending_for=[])  # old and delivered: goes
    Event.objects.filter(id=ids[1]).update(occurred_at=old)  # old, still pending: stays
    Event.objects.filter(id=ids[2]).update(occurred_at=old, pending_for=["retired"])  # only a removed consumer: goes
    Event.objects.filter(id=ids[3]).update(pending_for=[])  # delivered, recent: stays
    tombstones_record(subject_type="target", subject_ids=[1, 2])
    Tombstone.objects.filter(subject_id=1).update(
        deleted_at=now - timedelta(days=settings.OUTBOX_TOMBSTONE_RETENTION_DAYS, minutes=1))
    assert outbox_purge(now=now) == 3
    assert sorted(Event.objects.values_list("id", flat=True)) == [ids[1], ids[3]]
    assert list(Tombstone.objects.values_list("subject_id", flat=True)) == [2]
    assert outbox_purge(now=now) == 0


def test_the_purge_task_runs(db):
    from outbox.tasks import outbox_purge as task

    assert task() == 0
