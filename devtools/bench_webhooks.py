"""Benchmark section ``webhooks`` (issue 16): 10,000 outbox events fanned out and drained by one worker into a local
receiver within 60 s.

- A receiver (devtools/webhook_receiver.py) runs as its own process on 127.0.0.1 and verifies every signature with the
  Standard Webhooks reference library.
- One endpoint subscribed to every event points at it; private targets are allowed for
  the run (the receiver is on 127.0.0.1). The run refuses to start when another active endpoint exists: it would be
  sent the benchmark's events.
- ``EVENTS`` events are emitted through the outbox's service (batches of 1,000, committed), then this process runs
  the two task bodies one after the other, as a worker would: ``webhooks_fan_out`` (the outbox claims + one INSERT
  per 1,000 events) and ``webhooks_deliver`` (batches of 500 claimed under a lease, sent WEBHOOK_CONCURRENCY at a time
  over keep-alive connections) until nothing is pending: a delivery that failed is retried when it comes due (~5 s
  later, as on a worker), and that wait counts. Timed: the fan-out, the sending, and the whole from the last event
  committed to the last delivery recorded; the receiver's count of verified, distinct message ids must be EVENTS.
- The demo manager is not used: the endpoint belongs to a user of its own (``bench-webhooks``, in the Manager group).
- Afterwards the benchmark's endpoint, its deliveries and the events it emitted are deleted again.

Returns plain dicts with ``devtools.bench.Row``'s fields (bench.py builds the rows; this module does not import it).
"""

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count
from django.test.utils import override_settings

from outbox.models import Event
from outbox.services import EventSpec, events_emit
from partners.roles import MANAGER
from webhooks import tasks
from webhooks.models import Delivery, Endpoint
from webhooks.services import endpoint_create, endpoint_delete

EVENTS = 10_000
EMIT_BATCH = 1_000
DRAIN_S = 60.0
BENCH_USERNAME = "bench-webhooks"
BENCH_CODE = "BENCH-WEBHOOK-"
RECEIVER = Path(__file__).resolve().parent / "webhook_receiver.py"


def _noop(message):
    pass


class _Receiver:
    def __init__(self, secret: str):
        self.process = subprocess.Popen([sys.executable, str(RECEIVER)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.process.stdin.write(secret + "\n")
        self.process.stdin.close()
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError("the webhook receiver did not start")
        self.url = f"http://127.0.0.1:{line}/hooks/bench"
        self.stats_url = f"http://127.0.0.1:{line}/stats"

    def stats(self) -> dict:
        with urllib.request.urlopen(self.stats_url, timeout=5) as answer:  # noqa: S310 (our own 127.0.0.1 URL)
            return json.loads(answer.read())

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _bench_user():
    """A manager of its own (only managers own endpoints), deleted again after the run."""
    user, _created = get_user_model().objects.get_or_create(username=BENCH_USERNAME, defaults={"is_active": True})
    user.groups.add(Group.objects.get(name=MANAGER))
    return user


def bench_webhooks(*, repeat: int = 1, progress=_noop, events: int = EVENTS) -> list[dict]:
    others = Endpoint.objects.filter(is_active=True).exclude(owner__username=BENCH_USERNAME).count()
    if others:
        return [{"section": "webhooks", "name": f"fan-out + drain of {events:,} events", "ok": False,
                 "note": f"not run: {others} other active endpoint(s) would be sent the benchmark's events"}]
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True):
        return _run(events=events, progress=progress)


def _run(*, events: int, progress) -> list[dict]:
    user = _bench_user()
    receiver = None
    endpoint = None
    first_id = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    try:
        # the endpoint's secret is only known after it is made: make it with a placeholder URL, then point it at
        # the receiver (which needs the secret to verify)
        endpoint, secret = endpoint_create(owner=user, url="http://127.0.0.1:9/placeholder", events=[],
                                           description="benchmark (deleted after the run)")
        receiver = _Receiver(secret)
        Endpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
        progress(f"webhooks: receiver on {receiver.url}; emitting {events:,} events")
        started = time.monotonic()
        for first in range(0, events, EMIT_BATCH):
            with transaction.atomic():
                events_emit(events=[
                    EventSpec(topic="partner.updated", subject_type="partner", subject_id=number,
                              payload={"id": number, "code": f"{BENCH_CODE}{number:06d}",
                                       "name": f"Bench partner {number}", "status": "active", "tier": "Gold"})
                    for number in range(first, min(first + EMIT_BATCH, events))
                ])
        emitted_at = time.monotonic()
        progress(f"webhooks: emitted in {emitted_at - started:.1f} s; fan-out…")
        fan_out = tasks.webhooks_fan_out()
        fanned_at = time.monotonic()
        progress(f"webhooks: {fan_out['deliveries']:,} deliveries made in {fanned_at - emitted_at:.1f} s; sending…")
        sent = {"delivered": 0, "claimed": 0}
        pending = Delivery.objects.filter(endpoint=endpoint, state=Delivery.State.PENDING)
        while time.monotonic() - fanned_at < 2 * DRAIN_S:
            run = tasks.webhooks_deliver()
            sent["delivered"] += run["delivered"]
            sent["claimed"] += run["claimed"]
            if run["claimed"] == 0:  # a retry not due yet (a worker's beat tick would come back for it), or done
                if not pending.exists():
                    break
                time.sleep(0.5)
        drained_at = time.monotonic()
        stats = receiver.stats()
        undelivered = Delivery.objects.filter(endpoint=endpoint).exclude(state=Delivery.State.DELIVERED)
        left = undelivered.count()
        errors = list(undelivered.values_list("last_error").annotate(n=Count("id")).order_by("-n")[:3])
    finally:
        if receiver is not None:
            receiver.stop()
        if endpoint is not None:
            endpoint_delete(endpoint=Endpoint.objects.get(pk=endpoint.pk), by=user)
        user.delete()  # its own user, made for the run (it owns nothing else)
        _delete_events(after_id=first_id)
    total = drained_at - emitted_at
    sending = drained_at - fanned_at
    complete = stats["unique"] == events and left == 0
    return [
        {"section": "webhooks", "name": f"fan-out of {events:,} events (1 endpoint)",
         "median": f"{fanned_at - emitted_at:.2f} s", "ok": None,
         "note": f"{fan_out['deliveries']:,} deliveries made; emitting took {emitted_at - started:.1f} s"},
        {"section": "webhooks", "name": f"drain {events:,} deliveries, one worker, local receiver",
         "median": f"{sending:.2f} s", "ok": None,
         "note": f"{sent['delivered'] / sending:,.0f} deliveries/s, {settings.WEBHOOK_CONCURRENCY} at a time"},
        {"section": "webhooks", "name": "fan-out + drain (events committed → last delivery recorded)",
         "median": f"{total:.2f} s", "target": f"≤ {DRAIN_S:.0f} s, all delivered once",
         "ok": total <= DRAIN_S and complete,
         "note": f"receiver: {stats['verified']:,} verified of {stats['received']:,}, {stats['unique']:,} distinct ids;"
                 f" {left} not delivered" + (f" ({errors})" if errors else "")},
    ]


def _delete_events(*, after_id: int) -> None:
    """The benchmark's own events (tooling cleaning up after itself; the outbox's purge would take them in a week)."""
    Event.objects.filter(id__gt=after_id, subject_type="partner", payload__code__startswith=BENCH_CODE).delete()
