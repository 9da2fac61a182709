"""The whole path with a real Celery worker on the real Redis broker: a change's event committed in the outbox wakes
``webhooks.tasks.webhooks_fan_out`` (settings.OUTBOX_CONSUMERS), which makes the delivery and enqueues
``webhooks.tasks.webhooks_deliver``, which signs and POSTs it to the receiver on 127.0.0.1."""

import time

import pytest
from django.db import transaction

from outbox.services import EventSpec, events_emit
from webhooks.models import Delivery


@pytest.fixture
def worker(monkeypatch, settings, request):
    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE_TARGETS", "True")  # the worker's receiver is on 127.0.0.1 too
    return request.getfixturevalue("celery_worker_process")


def _wait(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_committed_event_reaches_the_receiver_through_the_worker(worker, make_endpoint, receiver):
    make_endpoint(events=["lead.created"])
    with transaction.atomic():
        events_emit(events=[
            EventSpec(topic="lead.created", subject_type="lead", subject_id=41, payload={"id": 41, "name": "Acme"}),
            EventSpec(topic="partner.updated", subject_type="partner", subject_id=7, payload={"id": 7}),  # not wanted
        ])
    assert _wait(lambda: Delivery.objects.filter(state="delivered").exists()), list(Delivery.objects.values())
    assert len(receiver.received) == 1 and receiver.received[0].verified
    assert receiver.received[0].json["data"] == {"id": 41, "name": "Acme"}
    assert Delivery.objects.count() == 1
