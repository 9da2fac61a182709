"""The beat's deal jobs (portal.deal_tasks → portal.deal_services): review reminders, protection notices at 14 and 3
days, expiry. Set-based claims: running twice does nothing new."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from notifications.models import Notification
from portal import deal_services as services
from portal import deal_tasks
from portal.models import DealEvent, DealRegistration, PortalEvent

Status = DealRegistration.Status
FIELDS = dict(company="Initech", domain="initech.com", contact_name="Bill", contact_email="", contact_phone="",
              country="DE", amount=Decimal("100"), currency="EUR", expected_close=date(2027, 1, 1), notes="")


def submit(member, **overrides):
    registration = services.deal_save(member=member, **{**FIELDS, **overrides})
    return services.deal_submit(registration=registration, member=member).registration


def approve(member, rep, **overrides):
    return services.deal_decide(registration=submit(member, **overrides), by=rep, decision="approve", reason="ok")


def test_review_reminders_once_per_submission(acme_member, rep, settings):
    settings.DEAL_REVIEW_REMIND_DAYS = 2
    old = submit(acme_member, company="Old one")
    fresh = submit(acme_member, company="Fresh one")
    DealRegistration.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(days=3))
    assert deal_tasks.remind_reviewers() == 1
    assert deal_tasks.remind_reviewers() == 0  # twice = once
    reminder = Notification.objects.get(event="deal_reminder")
    assert reminder.recipient_id == rep.pk and "Old one" in reminder.title and "3 days" in reminder.title
    fresh.refresh_from_db()
    assert fresh.review_reminded_at is None


def test_review_reminder_without_a_rep_goes_to_managers(acme, acme_member, manager):
    registration = submit(acme_member)
    DealRegistration.objects.filter(pk=registration.pk).update(submitted_at=timezone.now() - timedelta(days=5),
                                                               reviewer=None)
    assert services.deals_remind_reviewers(now=timezone.now()) == 1
    assert Notification.objects.filter(event="deal_reminder", recipient=manager).count() == 1


def test_protection_notices_14_then_3_days(acme_member, acme_admin, rep):
    in_ten = approve(acme_member, rep, company="Ten days")
    in_two = approve(acme_member, rep, company="Two days", domain="two.example")
    far = approve(acme_member, rep, company="Far away", domain="far.example")
    now = timezone.now()
    DealRegistration.objects.filter(pk=in_ten.pk).update(protection_expires_at=now + timedelta(days=10))
    DealRegistration.objects.filter(pk=in_two.pk).update(protection_expires_at=now + timedelta(days=2))
    assert services.deals_notify_expiring(now=now) == 2
    assert services.deals_notify_expiring(now=now) == 0  # twice = once
    notices = dict(DealRegistration.objects.values_list("company", "expiry_notice"))
    assert notices == {"Ten days": 14, "Two days": 3, "Far away": 0}  # inside both windows: only the 3-day notice
    titles = sorted(Notification.objects.filter(event="deal_expiring", recipient=acme_member.user)
                    .values_list("title", flat=True))
    assert [t.split(":")[0] for t in titles] == ["Protection ends within 14 days", "Protection ends within 3 days"]
    assert Notification.objects.filter(event="deal_expiring", recipient=acme_admin.user).count() == 2
    assert PortalEvent.objects.filter(kind="deal_expiring").count() == 2
    # Eight days later the first one is inside 3 days: its second notice, once.
    later = now + timedelta(days=8)
    assert services.deals_notify_expiring(now=later) == 1
    assert services.deals_notify_expiring(now=later) == 0
    assert DealRegistration.objects.get(pk=in_ten.pk).expiry_notice == 3
    assert far.pk


def test_an_extension_starts_the_notices_again(acme_member, rep):
    approved = approve(acme_member, rep)
    now = timezone.now()
    DealRegistration.objects.filter(pk=approved.pk).update(protection_expires_at=now + timedelta(days=2))
    services.deals_notify_expiring(now=now)
    approved.refresh_from_db()
    services.deal_extension_request(registration=approved, member=acme_member)
    services.deal_extension_decide(registration=approved, by=rep, grant=True)
    approved.refresh_from_db()
    assert approved.expiry_notice == 0
    assert services.deals_notify_expiring(now=approved.protection_expires_at - timedelta(days=10)) == 1


def test_expiry_closes_once(acme_member, acme_admin, rep):
    approved = approve(acme_member, rep)
    pending = approve(acme_member, rep, company="Won, waiting", domain="won.example")
    services.deal_report_won(registration=pending, member=acme_member)
    past = timezone.now() - timedelta(minutes=1)
    DealRegistration.objects.filter(pk__in=[approved.pk, pending.pk]).update(protection_expires_at=past)
    result = deal_tasks.protection_notices()
    assert result == {"notified": 0, "expired": 1}  # a win waiting for the vendor does not expire
    assert deal_tasks.protection_notices() == {"notified": 0, "expired": 0}
    approved.refresh_from_db()
    assert approved.status == Status.EXPIRED
    assert DealEvent.objects.filter(registration=approved, status="expired").count() == 1
    expired = Notification.objects.filter(event="deal_expiring")
    assert sorted(expired.values_list("recipient_id", flat=True)) == sorted([acme_member.user_id,
                                                                            acme_admin.user_id, rep.pk])
    assert PortalEvent.objects.filter(kind="deal_expiring", source_key=f"deal:{approved.pk}:expired").exists()
