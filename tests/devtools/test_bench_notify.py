"""Smoke test of the bench's ``notify`` section (devtools/bench_notify.py) at a small size; the real run is 100,000
due (`manage.py bench --only notify`)."""

import pytest

from activities.models import Activity
from devtools import bench, bench_notify, demo
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_notify_section_measures_and_rolls_back():
    demo.demo_seed(partners=6, seed=1)
    activities, notifications = Activity.objects.count(), Notification.objects.count()

    rows = [bench.Row(**fields) for fields in bench_notify.bench_notify(repeat=2, due=300)]

    empty, big = rows
    assert empty.name == "beat tick, nothing due" and empty.median.endswith(" ms") and empty.ok is not None
    assert big.name == "beat tick, 300 due" and big.median.endswith(" s")
    assert "300 reminders claimed, 300 notifications created" in big.note and "WRONG" not in big.note
    assert "peak RSS growth during the tick" in big.note
    table = bench.render_table(rows)
    assert "| notify: beat tick, 300 due |" in table
    # Everything it wrote was rolled back.
    assert (Activity.objects.count(), Notification.objects.count()) == (activities, notifications)


def test_notify_is_a_section_of_the_bench_command():
    assert "notify" in bench.SECTIONS
