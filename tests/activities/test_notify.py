"""The beat's claim of what is due (activities.notify, re-exported by activities.services) and the morning digest,
against the real PostgreSQL: idempotent, safe in parallel, all-or-nothing, and only to people who may see the partner."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, connections
from django.utils import timezone

from activities import services as activity_services
from activities.models import Activity
from notifications.models import Notification, Preference
from partners import services as partner_services
from prm.celery import app
from tests import factories
from tests.smtp import smtp_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(rep):
    return partner_services.partner_create(by=rep, code="ACME", name="Acme & Co", tier=factories.tier("Gold"),
                                           assigned_to=rep)


def remind(partner, by, *, minutes=-1, subject="Send the price list"):
    return activity_services.activity_remind(partner=partner, by=by, subject=subject,
                                             start_at=timezone.now() + timedelta(minutes=minutes))


def schedule(partner, by, *, minutes, kind=Activity.Kind.MEETING):
    return activity_services.activity_schedule(partner=partner, by=by, kind=kind, subject="Quarterly review",
                                               start_at=timezone.now() + timedelta(minutes=minutes))


def tick(now=None):
    return activity_services.activities_notify_due(now=now or timezone.now())


def test_a_due_reminder_notifies_its_owner_once(rep, partner, client):
    activity = remind(partner, rep)
    remind(partner, rep, minutes=30)  # not due yet

    assert tick() == 1
    assert tick() == 0  # a second tick (or a redelivered task) finds nothing to claim

    notification = Notification.objects.get()
    assert notification.recipient == rep and notification.event == "reminder_due"
    assert notification.title == "Reminder: Send the price list · Acme & Co"
    assert notification.link == f"/partners/{partner.pk}/#activity-{activity.pk}"
    assert notification.email_state == "pending"
    activity.refresh_from_db()
    assert activity.notified_at is not None
    # In the bell and the list.
    client.force_login(rep)
    assert client.get("/notifications/unread.json").json() == {"unread": 1, "label": "1"}
    page = client.get("/notifications/").content.decode()
    assert "Reminder: Send the price list · Acme &amp; Co" in page and "is-unread" in page


def test_the_tick_sends_the_email_after_its_commit(rep, partner, smtp_server, django_capture_on_commit_callbacks):  # noqa: F811
    remind(partner, rep)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the enqueued task runs in this process (the embedded default without Redis)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            tick()
        assert smtp_server.messages == []  # nothing is sent before the commit
        for callback in callbacks:
            callback()
    finally:
        app.conf.task_always_eager = eager
    [(recipients, message)] = smtp_server.messages
    assert recipients == [rep.email] and message["Subject"] == "Reminder: Send the price list · Acme & Co"
    link = f"https://prm.example.com/partners/{partner.pk}/#activity-"
    assert link in message.get_body(("plain",)).get_content()
    assert Notification.objects.get().email_state == "sent"


def test_an_error_after_the_claim_claims_nothing_and_the_next_tick_sends_it(rep, partner):
    activity = remind(partner, rep)
    # A real failure inside the tick's transaction, after the claim's UPDATE: PostgreSQL refuses the notification row.
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN RAISE EXCEPTION 'notification store unavailable'; END $$;
            CREATE TRIGGER test_refuse BEFORE INSERT ON notifications_notification
                FOR EACH ROW EXECUTE FUNCTION test_refuse();
        """)
    with pytest.raises(Exception, match="notification store unavailable"):
        tick()
    activity.refresh_from_db()
    assert activity.notified_at is None  # the claim was rolled back with the failure
    assert not Notification.objects.exists()

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_refuse ON notifications_notification; DROP FUNCTION test_refuse();")
    assert tick() == 1
    assert Notification.objects.get().recipient == rep


def test_a_reassigned_partner_notifies_the_new_assignee_not_the_old_rep(rep, other_rep, partner):
    remind(partner, rep)
    schedule(partner, rep, minutes=10)
    partner_services.partner_update(partner=partner, by=None, assigned_to=other_rep)

    assert tick() == 2
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"rep2"}


def test_an_owner_who_sees_all_partners_keeps_their_notification(rep, other_rep, manager, partner):
    remind(partner, manager)  # a manager's own reminder on a rep's partner
    direct = factories.UserFactory(username="direct")
    direct.user_permissions.add(Permission.objects.get(codename="view_all_partners"))
    remind(partner, direct, subject="direct permission")
    remind(partner, factories.UserFactory(username="nobody"), subject="no permission")

    assert tick() == 3
    by_subject = {n.title.split(" · ")[0]: n.recipient.username for n in Notification.objects.select_related("recipient")}
    assert by_subject == {"Reminder: Send the price list": "manager1", "Reminder: direct permission": "direct",
                          "Reminder: no permission": "rep1"}


def test_nobody_to_tell_still_claims(rep, partner):
    activity = remind(partner, rep)
    partner_services.partner_update(partner=partner, by=None, assigned_to=None)
    assert tick() == 0
    activity.refresh_from_db()
    assert activity.notified_at is not None and not Notification.objects.exists()


def test_lead_time_comes_from_the_owners_preference(rep, other_rep, partner):
    in_40 = schedule(partner, rep, minutes=40)
    in_10 = schedule(partner, rep, minutes=10, kind=Activity.Kind.CALL)
    assert tick() == 1  # the default 15 minutes: only the call
    assert Notification.objects.get().source_key.startswith(f"activity:{in_10.pk}:")
    assert Notification.objects.get().event == "starts_soon"

    Preference.objects.create(user=rep, lead_minutes=60, time_zone="Asia/Kolkata")
    assert tick() == 1
    meeting = Notification.objects.get(source_key__startswith=f"activity:{in_40.pk}:")
    ist = in_40.start_at + timedelta(hours=5, minutes=30)
    assert meeting.title == f"Meeting with Acme & Co at {ist:%H:%M}"  # in the recipient's zone
    assert "Quarterly review" in meeting.body


def test_a_call_more_than_an_hour_past_is_claimed_without_a_notification(rep, partner):
    old = activity_services.activity_schedule(partner=partner, by=rep, kind=Activity.Kind.CALL,
                                              start_at=timezone.now() - timedelta(minutes=61))
    assert tick() == 0
    old.refresh_from_db()
    assert old.notified_at is not None


def test_rescheduled_activity_notifies_again_under_a_new_key(rep, partner):
    activity = remind(partner, rep)
    assert tick() == 1
    # What a reschedule must do (activities.services has no reschedule service yet): new time, notified_at cleared.
    Activity.objects.filter(pk=activity.pk).update(start_at=activity.start_at + timedelta(seconds=30), notified_at=None)
    assert tick(timezone.now() + timedelta(minutes=1)) == 1
    assert Notification.objects.count() == 2


def test_many_due_in_batches(rep, partner):
    for n in range(7):
        remind(partner, rep, subject=f"r{n}")
    assert activity_services.activities_notify_due(now=timezone.now(), batch=3) == 7
    assert Activity.objects.filter(notified_at=None).count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_ticks_in_parallel_notify_each_activity_once():
    rep = factories.rep_user(username="rep-parallel")
    partner = partner_services.partner_create(by=rep, code="PAR", name="Parallel", tier=factories.tier("Gold"),
                                              assigned_to=rep)
    for n in range(40):
        remind(partner, rep, subject=f"r{n}")
    now = timezone.now()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(activity_services.activities_notify_due(now=now, batch=5))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(results) == 40
    assert Notification.objects.count() == 40
    assert Notification.objects.values("source_key").distinct().count() == 40


# --- Digest --------------------------------------------------------------------------------------------------------


def test_morning_digest_lists_the_users_day_once(rep, other_rep, partner, settings):
    settings.TIME_ZONE = "UTC"
    now = datetime(2026, 11, 23, 2, 31, tzinfo=UTC)  # 08:01 in Kolkata
    Preference.objects.create(user=rep, time_zone="Asia/Kolkata", digest_enabled=True,
                              digest_next_at=datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    ist_day = datetime(2026, 11, 22, 18, 30, tzinfo=UTC)  # midnight IST of the 23rd
    factories.ActivityFactory(partner=partner, mode="scheduled", status="planned", kind="meeting", subject="Review",
                              start_at=ist_day + timedelta(hours=11))  # 11:00 IST
    factories.ActivityFactory(partner=partner, mode="reminder", status="planned", kind="task", subject="Old one",
                              start_at=ist_day - timedelta(days=2))  # overdue reminder
    factories.ActivityFactory(partner=partner, mode="scheduled", status="planned", kind="call",
                              start_at=ist_day + timedelta(days=1, hours=10))  # tomorrow: not in it
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    factories.ActivityFactory(partner=theirs, owner=rep, mode="scheduled", status="planned", kind="call",
                              start_at=ist_day + timedelta(hours=12))  # rep's, but on a partner rep cannot see
    partner_services.partner_engagement_set(partner=partner, last_engaged_at=None, next_engagement_at=None)

    assert activity_services.activities_send_digests(now=now) == 1
    assert activity_services.activities_send_digests(now=now) == 0  # claimed

    digest = Notification.objects.get()
    assert digest.recipient == rep and digest.event == "digest" and digest.source_key == "digest:2026-11-23"
    assert digest.title.startswith("Your day, Mon 23 Nov 2026: 1 call(s)/meeting(s), 1 reminder(s) due")
    assert digest.body.splitlines() == ["21 Nov 2026, 00:00 · Reminder · Acme & Co — Old one",
                                        "11:00 · Meeting · Acme & Co — Review"]
    assert digest.link == "/today/"


def test_beat_runs_registered_tasks_that_are_thin_and_repeatable(rep, partner):
    from activities.tasks import notify_due, send_digests

    app.loader.import_default_modules()
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"activities.tasks.notify_due", "notifications.tasks.send_pending_emails",
            "activities.tasks.send_digests"} <= schedule <= set(app.tasks)
    remind(partner, rep)
    assert notify_due.apply().get() == 1
    assert notify_due.apply().get() == 0  # run twice: nothing more
    assert send_digests.apply().get() == 0
