"""portal.share_services: sharing a lead with a partner, the partner's answers, reminders and expiry (set-based, twice
= once), returns to the rep with a notification, against the real database."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import services as lead_services
from leads.models import Lead
from notifications.models import Notification
from portal.models import PortalEvent, SharedLead
from portal.share_services import (
    lead_share,
    shared_lead_accept,
    shared_lead_decline,
    shared_lead_follow_up,
    shared_lead_withdraw,
    shared_leads_expire,
    shared_leads_remind,
)
from portal.share_tasks import shared_lead_deadlines
from tests import factories
from tests.portal.conftest import make_member

Status = SharedLead.Status


@pytest.fixture
def lead(rep):
    """A lead of ``rep``'s that came in directly (no partner)."""
    return lead_services.lead_create(by=rep, name="Ravi Kumar", company="Ravi Traders", email="ravi@traders.example",
                                     phone="+91 98450 12345")


@pytest.fixture
def shared(lead, acme, acme_admin, acme_member, rep):
    return lead_share(lead=lead, partner=acme, by=rep, note="Wants 40 licences before March.")


# --- Sharing ----------------------------------------------------------------------------------------------------------


def test_share_offers_the_lead_with_a_deadline_notifies_the_partner_and_records_an_event(
        shared, lead, acme, acme_admin, acme_member, rep, settings):
    assert shared.status == Status.OFFERED and shared.shared_by == rep and shared.note.startswith("Wants 40")
    assert shared.respond_by - shared.offered_at == timedelta(days=settings.SHARED_LEAD_ACCEPT_DAYS)
    assert shared.follow_up_by is None
    notes = Notification.objects.filter(event=Notification.Event.LEAD_SHARED)
    assert {n.recipient_id for n in notes} == {acme_admin.user_id, acme_member.user_id}
    note = notes.first()
    assert note.link == f"/portal/leads/{shared.pk}/" and "Ravi Traders" in note.title
    # Before acceptance the partner learns the company, not the contact: not even by email.
    assert "Ravi Kumar" not in note.title + note.body and "ravi@traders" not in note.body
    assert note.email_state == Notification.Email.PENDING
    event = PortalEvent.objects.get(partner=acme)
    assert event.kind == PortalEvent.Kind.LEAD_SHARED and event.link == note.link and event.actor == rep


def test_a_deactivated_member_is_not_notified(lead, acme, acme_admin, rep):
    gone = make_member(acme, username="gone")
    gone.is_active = False
    gone.save()
    lead_share(lead=lead, partner=acme, by=rep)
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {acme_admin.user_id}


def test_one_open_share_per_lead(shared, lead, globex, globex_admin, manager):
    with pytest.raises(ValidationError, match="already shared with Acme Distribution"):
        lead_share(lead=lead, partner=globex, by=manager)
    assert SharedLead.objects.count() == 1


def test_after_a_decline_the_lead_can_be_shared_again(shared, lead, acme_admin, globex, globex_admin, manager):
    shared_lead_decline(share=shared, member=acme_admin, reason="Not our region")
    again = lead_share(lead=lead, partner=globex, by=manager)
    assert again.status == Status.OFFERED


def test_a_rep_shares_only_leads_and_partners_they_see(lead, acme, acme_admin, globex, globex_admin, rep, other_rep):
    with pytest.raises(PermissionDenied):  # globex is other_rep's partner
        lead_share(lead=lead, partner=globex, by=rep)
    with pytest.raises(PermissionDenied):  # the lead is rep's, not other_rep's
        lead_share(lead=lead, partner=globex, by=other_rep)
    assert not SharedLead.objects.exists()


def test_a_closed_lead_or_a_partner_without_users_is_refused(lead, acme, rep):
    with pytest.raises(ValidationError) as caught:
        lead_share(lead=lead, partner=acme, by=rep)  # acme has no portal users (no member fixture)
    assert "no active portal users" in str(caught.value.message_dict["partner"])
    make_member(acme, username="someone")
    lead_services.lead_lose(lead=lead, by=rep, reason="Went elsewhere")
    with pytest.raises(ValidationError, match="only an open lead"):
        lead_share(lead=lead, partner=acme, by=rep)
    assert not SharedLead.objects.exists()


def test_an_oversized_note_is_refused(lead, acme, acme_admin, rep):
    with pytest.raises(ValidationError) as caught:
        lead_share(lead=lead, partner=acme, by=rep, note="x" * 1001)
    assert "1000 characters" in str(caught.value.message_dict["note"])


# --- Partner answers --------------------------------------------------------------------------------------------------


def test_accept_makes_the_lead_the_partners_with_a_follow_up_deadline(shared, lead, acme, acme_member, rep, settings):
    accepted = shared_lead_accept(share=shared, member=acme_member)
    assert accepted.status == Status.ACCEPTED and accepted.responded_by == acme_member.user
    assert accepted.follow_up_by - accepted.responded_at == timedelta(days=settings.SHARED_LEAD_FOLLOW_UP_DAYS)
    lead.refresh_from_db()
    assert lead.partner == acme and lead.assigned_to == rep  # it counts as acme's; the rep keeps it


def test_accept_twice_is_refused_the_second_time(shared, acme_admin, acme_member):
    shared_lead_accept(share=shared, member=acme_admin)
    with pytest.raises(ValidationError, match="accepted: it can't be accepted"):
        shared_lead_accept(share=shared, member=acme_member)


def test_accept_after_the_deadline_is_refused_even_before_the_expiry_ran(shared, acme_admin):
    with pytest.raises(ValidationError, match="run out"):
        shared_lead_accept(share=shared, member=acme_admin, now=shared.respond_by + timedelta(seconds=1))
    assert SharedLead.objects.get().status == Status.OFFERED


def test_another_partners_member_cannot_answer(shared, globex_admin):
    for action in (lambda: shared_lead_accept(share=shared, member=globex_admin),
                   lambda: shared_lead_decline(share=shared, member=globex_admin, reason="mine now"),
                   lambda: shared_lead_follow_up(share=shared, member=globex_admin, note="x")):
        with pytest.raises(PermissionDenied):
            action()
    assert SharedLead.objects.get().status == Status.OFFERED


def test_decline_returns_the_lead_to_the_rep_with_a_notification(shared, lead, acme, acme_admin, rep):
    declined = shared_lead_decline(share=shared, member=acme_admin, reason="  Not our region  ")
    assert declined.status == Status.DECLINED and declined.response_note == "Not our region"
    lead.refresh_from_db()
    assert lead.partner is None and lead.assigned_to == rep
    returned = Notification.objects.get(event=Notification.Event.LEAD_RETURNED)
    assert returned.recipient == rep and returned.link == f"/leads/{lead.pk}/"
    assert "Acme Distribution" in returned.title and "Not our region" in returned.body
    assert PortalEvent.objects.filter(partner=acme, kind=PortalEvent.Kind.LEAD_RETURNED).count() == 1


def test_decline_needs_a_reason(shared, acme_admin):
    with pytest.raises(ValidationError) as caught:
        shared_lead_decline(share=shared, member=acme_admin, reason="   ")
    assert "Say why" in str(caught.value.message_dict["reason"])
    assert SharedLead.objects.get().status == Status.OFFERED


def test_follow_up_after_accepting(shared, acme_admin):
    with pytest.raises(ValidationError, match="no follow-up"):
        shared_lead_follow_up(share=shared, member=acme_admin, note="Called")
    shared_lead_accept(share=shared, member=acme_admin)
    done = shared_lead_follow_up(share=shared, member=acme_admin, note="Called, meeting on Monday")
    assert done.status == Status.FOLLOWED_UP and done.followed_up_at and done.response_note.startswith("Called")


def test_withdraw(shared, rep, other_rep):
    with pytest.raises(PermissionDenied):
        shared_lead_withdraw(share=shared, by=other_rep)
    assert shared_lead_withdraw(share=shared, by=rep) is True
    assert shared_lead_withdraw(share=shared, by=rep) is False  # a double submit changes nothing
    assert SharedLead.objects.get().status == Status.WITHDRAWN


# --- Beat: reminders and expiry ---------------------------------------------------------------------------------------


def test_reminders_before_each_deadline_twice_is_once(shared, acme_admin, acme_member, settings):
    early = shared.respond_by - timedelta(hours=settings.SHARED_LEAD_REMIND_HOURS + 1)
    assert shared_leads_remind(now=early) == 0  # not yet
    near = shared.respond_by - timedelta(hours=2)
    assert shared_leads_remind(now=near) == 1
    assert shared_leads_remind(now=near) == 0  # claimed: a second run reminds nobody
    assert shared_leads_remind(now=near + timedelta(minutes=15)) == 0
    reminders = Notification.objects.filter(event=Notification.Event.LEAD_REMINDER)
    assert reminders.count() == 2  # both members, once
    assert "Accept or decline" in reminders.first().title and "Ravi Kumar" not in reminders.first().title
    # Accepting re-arms the reminder for the follow-up deadline.
    accepted = shared_lead_accept(share=shared, member=acme_admin, now=near)
    near_follow = accepted.follow_up_by - timedelta(hours=3)
    assert shared_leads_remind(now=near_follow) == 1
    assert shared_leads_remind(now=near_follow) == 0
    assert reminders.count() == 4
    assert reminders.filter(title__startswith="Follow up on Ravi Kumar").count() == 2


def test_expiry_of_an_unanswered_share_twice_is_once(shared, lead, acme, rep):
    assert shared_leads_expire(now=shared.respond_by - timedelta(minutes=1)) == 0
    assert shared_leads_expire(now=shared.respond_by) == 1
    assert shared_leads_expire(now=shared.respond_by + timedelta(minutes=15)) == 0
    assert SharedLead.objects.get().status == Status.EXPIRED
    returned = Notification.objects.get(event=Notification.Event.LEAD_RETURNED)
    assert returned.recipient == rep and "did not answer in time" in returned.body
    assert PortalEvent.objects.filter(kind=PortalEvent.Kind.LEAD_RETURNED).count() == 1


def test_expiry_of_a_missed_follow_up(shared, acme_admin, rep):
    accepted = shared_lead_accept(share=shared, member=acme_admin)
    assert shared_leads_expire(now=accepted.follow_up_by - timedelta(minutes=1)) == 0
    assert shared_leads_expire(now=accepted.follow_up_by + timedelta(minutes=1)) == 1
    assert SharedLead.objects.get().status == Status.EXPIRED
    assert "did not follow up in time" in Notification.objects.get(event=Notification.Event.LEAD_RETURNED).body
    # A followed-up share never expires.
    lead2 = lead_services.lead_create(by=rep, name="Second", company="Second Co")
    second = lead_share(lead=lead2, partner=acme_admin.partner, by=rep)
    shared_lead_accept(share=second, member=acme_admin)
    shared_lead_follow_up(share=second, member=acme_admin, note="Done")
    assert shared_leads_expire(now=timezone.now() + timedelta(days=60)) == 0


def test_expiry_and_reminders_are_set_based(rep, acme, acme_admin, acme_member):
    """Many shares: the same statements whatever their number (no query per row)."""
    now = timezone.now()
    for n in range(12):
        lead = factories.LeadFactory(partner=None, assigned_to=rep, name=f"Lead {n}", company=f"Co {n}")
        lead_share(lead=lead, partner=acme, by=rep, now=now)
    respond_by = now + timedelta(days=3)
    with CaptureQueriesContext(connection) as remind:
        assert shared_leads_remind(now=respond_by - timedelta(hours=1)) == 12
    with CaptureQueriesContext(connection) as expire:
        assert shared_leads_expire(now=respond_by) == 12
    # remind: savepoint, the claim, the partners' people, the notifications, release; expire: savepoint, the claim,
    # the notifications, the feed events, release (no query per share).
    assert len(remind.captured_queries) <= 5 and len(expire.captured_queries) <= 5
    assert Notification.objects.filter(event=Notification.Event.LEAD_REMINDER).count() == 24
    assert Notification.objects.filter(event=Notification.Event.LEAD_RETURNED, recipient=rep).count() == 12


def test_a_share_without_sharer_returns_to_the_leads_assignee(lead, acme, acme_admin, rep):
    share = lead_share(lead=lead, partner=acme, by=rep)
    SharedLead.objects.filter(pk=share.pk).update(shared_by=None)  # the sharer's account was deleted
    shared_leads_expire(now=share.respond_by)
    assert Notification.objects.get(event=Notification.Event.LEAD_RETURNED).recipient == rep


def test_the_beat_task_runs_both_steps(shared):
    result = shared_lead_deadlines()
    assert result == {"expired": 0, "reminded": 0}
    SharedLead.objects.filter(pk=shared.pk).update(respond_by=timezone.now() - timedelta(minutes=1))
    assert shared_lead_deadlines() == {"expired": 1, "reminded": 0}
    assert shared_lead_deadlines() == {"expired": 0, "reminded": 0}


def test_accepting_a_lead_closed_meanwhile_is_refused(shared, lead, acme_admin, rep):
    lead_services.lead_lose(lead=lead, by=rep, reason="Gone")
    with pytest.raises(ValidationError, match="closed"):
        shared_lead_accept(share=shared, member=acme_admin)
    assert Lead.objects.get(pk=lead.pk).partner is None


def test_the_emails_go_out_escaped_and_without_the_contact(lead, acme, acme_admin, rep, mailoutbox):
    from notifications.services import notifications_send_pending_emails

    share = lead_share(lead=lead, partner=acme, by=rep, note="<script>alert(1)</script> call before Friday")
    notifications_send_pending_emails()
    message = mailoutbox[0]
    assert message.to == ["ada@acme.example"] and "Ravi Traders" in message.subject
    html = message.alternatives[0][0]
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert f"/portal/leads/{share.pk}/" in message.body
    assert "ravi@traders.example" not in message.body + html and "Ravi Kumar" not in message.body + html
    # Declined: the rep is emailed that it came back.
    mailoutbox.clear()
    shared_lead_decline(share=share, member=acme_admin, reason="<b>Not</b> our region")
    notifications_send_pending_emails()
    assert [m.to for m in mailoutbox] == [[rep.email]]
    assert "<b>Not</b>" not in mailoutbox[0].alternatives[0][0]


def test_no_reminder_for_a_lead_the_rep_closed_meanwhile(shared, lead, rep):
    lead_services.lead_lose(lead=lead, by=rep, reason="Bought elsewhere")
    assert shared_leads_remind(now=shared.respond_by - timedelta(hours=1)) == 0
    assert shared_leads_expire(now=shared.respond_by) == 1  # the share still closes, back to the rep
