"""notifications.services against the real PostgreSQL and a real SMTP server (aiosmtpd, tests/notifications/conftest)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification, Preference
from notifications.services import (
    EMAIL_MAX_ATTEMPTS,
    EMAIL_RECLAIM_AFTER,
    NotificationItem,
    notification_mark_read,
    notifications_create,
    notifications_mark_all_read,
    notifications_send_pending_emails,
    preferences_claim_digests,
)
from tests import factories

pytestmark = pytest.mark.django_db


def item(user, key="activity:1:0", **kwargs):
    return NotificationItem(recipient_id=user.pk, event=kwargs.pop("event", Notification.Event.REMINDER_DUE),
                            title=kwargs.pop("title", "Reminder: call back · Acme"), source_key=key, **kwargs)


def test_create_is_idempotent_and_decides_email_per_recipient(rep, other_rep):
    quiet = factories.rep_user(username="quiet")
    Preference.objects.create(user=quiet, email_notifications=False)
    no_address = factories.rep_user(username="noaddress", email="")
    users = [rep, other_rep, quiet, no_address]

    assert notifications_create(items=[item(u) for u in users] + [item(rep)]) == 4  # the duplicate is dropped
    assert notifications_create(items=[item(u) for u in users]) == 0  # a second run creates nothing
    states = dict(Notification.objects.values_list("recipient__username", "email_state"))
    assert states == {"rep1": "pending", "rep2": "pending", "quiet": "none", "noaddress": "none"}
    # Another event or key for the same recipient is another notification.
    assert notifications_create(items=[item(rep, event=Notification.Event.STARTS_SOON), item(rep, key="x")]) == 2
    assert notifications_create(items=[]) == 0


def test_mark_read_only_touches_the_recipients_own(rep, other_rep):
    notifications_create(items=[item(rep), item(rep, key="b"), item(other_rep)])
    mine = Notification.objects.filter(recipient=rep).first()
    theirs = Notification.objects.get(recipient=other_rep)

    assert notification_mark_read(notification=theirs, user=rep) is False
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert notification_mark_read(notification=mine, user=rep) is True
    assert notification_mark_read(notification=mine, user=rep) is False  # already read
    assert notifications_mark_all_read(user=rep) == 1
    assert Notification.objects.filter(recipient=rep, read_at=None).count() == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_email_through_a_real_smtp_server(smtp_server, rep):
    rep.first_name = "Asha"
    rep.save()
    notifications_create(items=[item(rep, title="Reminder: send the price list · Acme & Co",
                                     body="Due 23 Nov 2026, 14:05", link="/partners/42/#activity-7")])

    run = notifications_send_pending_emails()

    assert (run.claimed, run.sent, run.failed) == (1, 1, 0)
    [(recipients, message)] = smtp_server.messages
    assert recipients == [rep.email]
    assert message["Subject"] == "Reminder: send the price list · Acme & Co"
    assert message["To"] == rep.email
    assert message["From"] == "PRM <prm@example.com>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = "https://prm.example.com/partners/42/#activity-7"
    assert "Hello Asha," in text and "Acme & Co" in text and "Due 23 Nov 2026, 14:05" in text and link in text
    assert f'href="{link}"' in html and "Acme &amp; Co" in html
    sent = Notification.objects.get()
    assert (sent.email_state, sent.email_attempts, sent.email_error) == ("sent", 1, "")
    assert sent.emailed_at is not None
    # Nothing left: a second run (or a duplicate task) sends nothing.
    assert notifications_send_pending_emails().claimed == 0
    assert len(smtp_server.messages) == 1


def test_a_portal_notification_email_points_at_the_portal_not_at_staff_pages(smtp_server, rep):
    """A partner user's notification links into /portal/: the footer's "all notifications" goes to the portal home and
    there is no link to the staff settings page (both would be a 404 for them)."""
    notifications_create(items=[item(rep, event=Notification.Event.DEAL_DECIDED, title="DR-000007 approved",
                                     link="/portal/deals/7/")])
    notifications_send_pending_emails()
    [(_recipients, message)] = smtp_server.messages
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "https://prm.example.com/portal/deals/7/" in text
    assert "All your notifications: https://prm.example.com/portal/\r\n" in text
    for part in (text, html):
        assert "/notifications/" not in part and "/settings/" not in part
    assert "partner portal" in text


def test_all_messages_of_a_run_go_through_one_connection(smtp_server, rep, other_rep):
    notifications_create(items=[item(rep), item(rep, key="2"), item(other_rep)])
    run = notifications_send_pending_emails()
    assert run.sent == 3 and len(smtp_server.messages) == 3
    assert sorted(r[0] for r, _m in smtp_server.messages) == sorted([rep.email, rep.email, other_rep.email])
    assert len(set(smtp_server.peers)) == 1  # one SMTP session (the same client port) for the whole batch


def test_a_refused_connection_leaves_the_row_pending(refused_smtp, rep):
    notifications_create(items=[item(rep)])

    run = notifications_send_pending_emails()

    assert (run.claimed, run.sent, run.failed) == (1, 0, 1)
    row = Notification.objects.get()
    assert (row.email_state, row.email_attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.email_error
    # It waits a minute per failed attempt before the next try.
    assert notifications_send_pending_emails().claimed == 0
    later = timezone.now() + timedelta(minutes=1, seconds=1)
    assert notifications_send_pending_emails(now=later).claimed == 1
    assert Notification.objects.get().email_attempts == 2


def test_after_the_last_attempt_the_row_is_failed(refused_smtp, rep):
    notifications_create(items=[item(rep)])
    now = timezone.now()
    for attempt in range(1, EMAIL_MAX_ATTEMPTS + 1):
        now += timedelta(minutes=attempt)
        assert notifications_send_pending_emails(now=now).claimed == 1
    row = Notification.objects.get()
    assert (row.email_state, row.email_attempts) == ("failed", EMAIL_MAX_ATTEMPTS)
    assert notifications_send_pending_emails(now=now + timedelta(hours=1)).claimed == 0


def test_a_row_left_sending_by_a_dead_worker_is_claimed_again(smtp_server, rep):
    notifications_create(items=[item(rep)])
    claimed_at = timezone.now() - timedelta(minutes=1)
    Notification.objects.update(email_state="sending", email_claimed_at=claimed_at, email_attempts=1)

    assert notifications_send_pending_emails().claimed == 0  # a live sender may still be on it
    run = notifications_send_pending_emails(now=claimed_at + EMAIL_RECLAIM_AFTER + timedelta(seconds=1))
    assert run.sent == 1 and len(smtp_server.messages) == 1
    assert Notification.objects.get().email_state == "sent"


# --- Digest claim ---------------------------------------------------------------------------------------------------


def test_digest_claim_moves_to_the_next_0800_in_the_users_zone(rep, other_rep, settings):
    settings.TIME_ZONE = "UTC"
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 08:30 in Kolkata (UTC+5:30), 22:00 the day before in New York
    kolkata = Preference.objects.create(user=rep, time_zone="Asia/Kolkata", digest_enabled=True,
                                        digest_next_at=datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    york = Preference.objects.create(user=other_rep, time_zone="America/New_York", digest_enabled=True,
                                     digest_next_at=now)
    org = factories.rep_user(username="org")
    Preference.objects.create(user=org, digest_enabled=True, digest_next_at=now - timedelta(days=3))  # blank: UTC
    off = factories.rep_user(username="off")
    Preference.objects.create(user=off, digest_enabled=False, digest_next_at=now - timedelta(days=1))
    later = factories.rep_user(username="later")
    Preference.objects.create(user=later, digest_enabled=True, digest_next_at=now + timedelta(minutes=1))

    claimed = preferences_claim_digests(now=now)

    assert claimed == sorted([(rep.pk, "Asia/Kolkata"), (other_rep.pk, "America/New_York"), (org.pk, "UTC")])
    kolkata.refresh_from_db()
    york.refresh_from_db()
    assert kolkata.digest_next_at == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)  # tomorrow 08:00 IST
    assert york.digest_next_at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 08:00 EST the same local day
    assert Preference.objects.get(user=org).digest_next_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert preferences_claim_digests(now=now) == []  # claimed: a second run finds nothing


def test_digest_claim_across_a_daylight_saving_change(rep):
    # Europe/London leaves summer time on 25 Oct 2026 at 01:00 UTC: 08:00 on the 24th is 07:00 UTC (BST), 08:00 on
    # the 25th is 08:00 UTC (GMT).
    Preference.objects.create(user=rep, time_zone="Europe/London", digest_enabled=True,
                              digest_next_at=datetime(2026, 10, 24, 7, 0, tzinfo=UTC))
    assert preferences_claim_digests(now=datetime(2026, 10, 24, 7, 0, tzinfo=UTC)) == [(rep.pk, "Europe/London")]
    assert Preference.objects.get().digest_next_at == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_digest_without_a_due_time_is_scheduled_not_sent(rep):
    Preference.objects.create(user=rep, digest_enabled=True, digest_next_at=None)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert preferences_claim_digests(now=now) == []
    assert Preference.objects.get().digest_next_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_digest_with_a_zone_postgresql_does_not_know_uses_the_organisations(rep, settings):
    settings.TIME_ZONE = "UTC"
    Preference.objects.create(user=rep, time_zone="Mars/Olympus_Mons", digest_enabled=True,
                              digest_next_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    assert preferences_claim_digests(now=datetime(2026, 11, 23, 8, 0, tzinfo=UTC)) == [(rep.pk, "UTC")]
    assert Preference.objects.get().digest_next_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
