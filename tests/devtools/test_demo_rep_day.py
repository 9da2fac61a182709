"""The demo's first rep has a day to show (issue 11): reminders and calls/meetings today and tomorrow; future ones wait
for the beat, past reminders of theirs are due (the bell's content), and the seed's other past rows are not."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from activities.models import Activity
from activities.services import activities_notify_due
from devtools import demo
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_demo_rep_has_a_day_and_the_beat_notifies_only_their_due_reminders():
    today = datetime.now(UTC).date()
    demo.demo_seed(partners=80, seed=5, today=today)
    User = get_user_model()
    rep = User.objects.get(username="rep1")
    assert rep.email == "rep1@example.com" and User.objects.get(username="manager").email

    midnight = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    day = Activity.objects.filter(owner=rep, status="planned", start_at__gte=midnight,
                                  start_at__lt=midnight + timedelta(days=2),
                                  subject__in=[row[5] for row in demo.REP_DAY])
    assert day.filter(mode="reminder").count() == 3 and day.filter(mode="scheduled").count() == 4
    now = datetime.now(UTC)
    assert not Activity.objects.filter(status="planned", start_at__gt=now).exclude(notified_at=None).exists()
    # Past planned rows are marked notified, but the rep's own reminders of today.
    waiting = Activity.objects.filter(status="planned", start_at__lt=now, notified_at=None)
    assert set(waiting.values_list("owner__username", "mode")) <= {("rep1", "reminder")}

    created = activities_notify_due(now=now)
    assert created == Notification.objects.count()
    assert set(Notification.objects.values_list("recipient__username", flat=True)) <= {"rep1"}
