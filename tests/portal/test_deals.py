"""portal.deal_services: the whole life of a deal registration against the real database — draft, submit (once,
whatever the double clicks), the conflict check, the rep's decision, the lead it creates, protection and its one
extension, stage, won (confirmed by the vendor: the lead converts) or lost; every step a history row, a feed row
and notifications (emailed)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from leads.models import Customer, Lead
from notifications.models import Notification
from notifications.services import notifications_send_pending_emails
from portal import deal_services as services
from portal.models import DealEvent, DealProtection, DealRegistration, PortalEvent
from tests.factories import CustomerFactory, rep_user
from tests.portal.conftest import make_member

Status = DealRegistration.Status

FIELDS = dict(company="Initech", domain="http://WWW.Initech.COM/path", contact_name="Bill Lumbergh",
              contact_email="Bill@Initech.com", contact_phone="+49 30 1234", country="de", amount=Decimal("5000.00"),
              currency="eur", expected_close=date(2027, 3, 31), notes="50 licences")


def draft(member, token="", **overrides):
    return services.deal_save(member=member, form_token=token, **{**FIELDS, **overrides})


def submitted(member, **overrides):
    registration = draft(member, **overrides)
    return services.deal_submit(registration=registration, member=member).registration


def notes_of(registration):
    return list(DealEvent.objects.filter(registration=registration).values_list("status", "note"))


def test_a_draft_is_normalised_and_the_same_form_is_one_registration(acme_member):
    registration = draft(acme_member, token="tok-1")
    assert (registration.domain, registration.domain_reversed) == ("initech.com", "moc.hcetini")
    assert (registration.country, registration.currency, registration.contact_email) == ("DE", "EUR",
                                                                                           "bill@initech.com")
    assert registration.status == Status.DRAFT and registration.created_by_id == acme_member.user_id
    again = draft(acme_member, token="tok-1", company="Initech AG")  # the same form posted again
    assert again.pk == registration.pk and DealRegistration.objects.count() == 1
    assert DealRegistration.objects.get().company == "Initech AG"


def test_bad_fields_are_refused_with_field_errors(acme_member):
    with pytest.raises(ValidationError) as error:
        draft(acme_member, domain="not a domain", country="Germany", currency="euro", amount=Decimal("-1"),
              notes="x" * 5001)
    assert set(error.value.message_dict) == {"domain", "country", "currency", "amount", "notes"}
    with pytest.raises(ValidationError) as error:
        draft(acme_member, company="x" * 201)
    assert "company" in error.value.message_dict
    assert not DealRegistration.objects.exists()


def test_domain_from_the_contact_email_when_none_given(acme_member):
    assert draft(acme_member, domain="").domain == "initech.com"
    assert draft(acme_member, domain="", contact_email="bill@gmail.com").domain == ""


def test_submit_is_once_and_tells_the_reviewer_and_the_submitter(acme_member, acme_admin, rep, settings):
    settings.DEAL_REVIEW_DAYS = 3
    registration = draft(acme_member)
    result = services.deal_submit(registration=registration, member=acme_member)
    registration.refresh_from_db()
    assert (registration.status, registration.reviewer_id) == (Status.SUBMITTED, rep.pk)
    assert not result.repeated and result.conflicts == [] and not result.existing_notice
    again = services.deal_submit(registration=registration, member=acme_member)  # a double submit
    assert again.repeated
    assert notes_of(registration) == [("draft", "Draft saved."), ("submitted", "Submitted for review.")]
    assert PortalEvent.objects.filter(partner=registration.partner, kind="deal_submitted").count() == 1
    to_rep = Notification.objects.get(recipient=rep)
    assert to_rep.event == "deal_submitted" and to_rep.link == f"/deals/{registration.pk}/"
    confirmation = Notification.objects.get(recipient=acme_member.user)
    assert registration.number in confirmation.title
    assert "3 business days" in confirmation.body and "Next steps" in confirmation.body
    assert confirmation.link == f"/portal/deals/{registration.pk}/"
    assert Notification.objects.count() == 2  # nobody else (the partner admin hears of decisions)


def test_submit_needs_the_essentials(acme_member):
    registration = draft(acme_member, contact_name="", amount=None, expected_close=None)
    with pytest.raises(ValidationError) as error:
        services.deal_submit(registration=registration, member=acme_member)
    assert set(error.value.message_dict) == {"contact_name", "amount", "expected_close"}
    registration.refresh_from_db()
    assert registration.status == Status.DRAFT


def test_no_rep_means_the_managers_review(acme_member, acme, manager):
    acme.assigned_to.is_active = False
    acme.assigned_to.save()
    registration = submitted(acme_member)
    assert registration.reviewer_id is None
    assert Notification.objects.filter(recipient=manager, event="deal_submitted").count() == 1


def test_another_partners_member_cannot_touch_it(acme_member, globex_admin):
    registration = draft(acme_member)
    with pytest.raises(PermissionDenied):
        services.deal_submit(registration=registration, member=globex_admin)
    with pytest.raises(PermissionDenied):
        services.deal_save(member=globex_admin, registration=registration, company="Mine now")
    draft(acme_member, token="t")
    with pytest.raises(ValidationError):  # another partner's form token is not a way in either
        draft(globex_admin, token="t", company="Mine now")
    registration.refresh_from_db()
    assert registration.company == "Initech" and registration.status == Status.DRAFT


def test_conflicts_on_submit_tell_the_partner_only_the_rule(acme_member, globex_admin, rep):
    theirs = submitted(globex_admin, company="Initech Germany")
    result = services.deal_submit(registration=draft(acme_member), member=acme_member)
    assert [(c.kind, c.id) for c in result.conflicts] == [("registration", theirs.pk)]
    assert result.existing_notice
    confirmation = Notification.objects.get(recipient=acme_member.user)
    assert "already exists" in confirmation.body
    # Nothing of the other partner in anything the partner reads.
    for text in Notification.objects.filter(recipient=acme_member.user).values_list("title", "body"):
        assert "Globex" not in " ".join(text) and "Initech Germany" not in " ".join(text)
    assert "1 possible conflict" in Notification.objects.get(recipient=rep).body


def test_a_lead_by_domain_or_a_similar_name_is_no_notice(acme_member, globex_admin):
    Lead.objects.create(name="x", company="Initech", email="someone@initech.com")
    result = services.deal_submit(registration=draft(acme_member), member=acme_member)
    assert result.conflicts and not result.existing_notice


def test_an_existing_customer_by_domain_is_a_notice(acme_member):
    CustomerFactory(name="Initech", website="https://initech.com", partner=None)
    assert services.deal_submit(registration=draft(acme_member), member=acme_member).existing_notice


def test_only_the_rep_or_a_manager_decides_with_a_reason(acme_member, rep, other_rep):
    registration = submitted(acme_member)
    with pytest.raises(PermissionDenied):
        services.deal_decide(registration=registration, by=other_rep, decision="approve", reason="ok")
    with pytest.raises(ValidationError):
        services.deal_decide(registration=registration, by=rep, decision="approve", reason="   ")
    with pytest.raises(ValidationError):
        services.deal_decide(registration=registration, by=rep, decision="approve", reason="x" * 1001)
    registration.refresh_from_db()
    assert registration.status == Status.SUBMITTED and registration.lead_id is None


def test_approval_creates_the_lead_and_the_protection(acme_member, acme_admin, rep):
    registration = submitted(acme_member)
    before = timezone.now()
    approved = services.deal_decide(registration=registration, by=rep, decision="approve", reason="Go ahead")
    lead = approved.lead
    assert (lead.partner_id, lead.company, lead.expected_value, lead.assigned_to_id, lead.email) == (
        acme_member.partner_id, "Initech", Decimal("5000.00"), rep.pk, "bill@initech.com")
    assert lead.stage == Lead.Stage.NEW
    assert timedelta(days=90) <= approved.protection_expires_at - before < timedelta(days=90, minutes=1)
    assert approved.decision_reason == "Go ahead" and approved.decided_by_id == rep.pk
    decided = Notification.objects.filter(event="deal_decided")
    assert sorted(decided.values_list("recipient_id", flat=True)) == sorted([acme_member.user_id,
                                                                            acme_admin.user_id])
    assert "Go ahead" in decided.first().body
    assert PortalEvent.objects.filter(kind="deal_decided").count() == 1
    with pytest.raises(ValidationError):  # decided already: a second decision is refused
        services.deal_decide(registration=registration, by=rep, decision="reject", reason="changed my mind")
    assert Lead.objects.count() == 1


def test_protection_days_per_tier(acme, acme_member, rep):
    DealProtection.objects.create(tier=acme.tier, days=45, extension_days=15)
    registration = submitted(acme_member)
    approved = services.deal_decide(registration=registration, by=rep, decision="approve", reason="ok")
    assert (approved.protection_expires_at - approved.decided_at).days == 45
    services.deal_extension_request(registration=approved, member=acme_member, note="Customer on holiday")
    granted = services.deal_extension_decide(registration=approved, by=rep, grant=True)
    assert (granted.protection_expires_at - approved.decided_at).days == 60


def test_return_for_information_then_resubmit(acme_member, rep):
    registration = submitted(acme_member)
    services.deal_decide(registration=registration, by=rep, decision="return", reason="Which products?")
    registration.refresh_from_db()
    assert registration.status == Status.RETURNED
    services.deal_save(member=acme_member, registration=registration, **{**FIELDS, "notes": "50 licences of X"})
    result = services.deal_submit(registration=registration, member=acme_member)
    assert result.registration.status == Status.SUBMITTED
    assert notes_of(registration)[-1] == ("submitted", "Resubmitted with more information.")


def test_reject(acme_member, manager):
    registration = submitted(acme_member)
    rejected = services.deal_decide(registration=registration, by=manager, decision="reject", reason="Direct deal")
    assert rejected.status == Status.REJECTED and rejected.lead_id is None
    with pytest.raises(ValidationError):
        services.deal_save(member=acme_member, registration=rejected, company="Try again")


def test_one_extension_granted_or_refused(acme_member, rep):
    approved = services.deal_decide(registration=submitted(acme_member), by=rep, decision="approve", reason="ok")
    expires = approved.protection_expires_at
    with pytest.raises(ValidationError):  # nothing asked yet
        services.deal_extension_decide(registration=approved, by=rep, grant=True)
    services.deal_extension_request(registration=approved, member=acme_member)
    approved.refresh_from_db()
    with pytest.raises(ValidationError):
        services.deal_extension_request(registration=approved, member=acme_member)
    with pytest.raises(ValidationError):  # refusing needs a reason
        services.deal_extension_decide(registration=approved, by=rep, grant=False)
    refused = services.deal_extension_decide(registration=approved, by=rep, grant=False, reason="Enough time")
    assert refused.extension_refused_at and refused.protection_expires_at == expires
    with pytest.raises(ValidationError):
        services.deal_extension_decide(registration=approved, by=rep, grant=True)
    with pytest.raises(ValidationError):
        services.deal_extension_request(registration=refused, member=acme_member)


def test_stage_won_confirmed_converts_the_lead(acme_member, rep, manager):
    approved = services.deal_decide(registration=submitted(acme_member), by=rep, decision="approve", reason="ok")
    assert services.deal_stage_set(registration=approved, member=acme_member, stage="proposal")
    approved.refresh_from_db()
    assert not services.deal_stage_set(registration=approved, member=acme_member, stage="proposal")
    with pytest.raises(ValidationError):
        services.deal_stage_set(registration=approved, member=acme_member, stage="won")
    pending = services.deal_report_won(registration=approved, member=acme_member, note="PO received")
    assert pending.status == Status.WON_PENDING
    assert Notification.objects.filter(recipient=rep, event="deal_reminder").count() == 1
    with pytest.raises(ValidationError):  # only once
        services.deal_report_won(registration=pending, member=acme_member)
    won = services.deal_confirm_won(registration=pending, by=manager)
    assert won.status == Status.WON
    lead = Lead.objects.get(pk=won.lead_id)
    assert (lead.stage, lead.value) == (Lead.Stage.WON, Decimal("5000.00"))
    assert Customer.objects.get(lead=lead).partner_id == acme_member.partner_id
    with pytest.raises(ValidationError):
        services.deal_confirm_won(registration=won, by=manager)
    assert [status for status, _note in notes_of(won)] == ["draft", "submitted", "approved", "approved",
                                                             "won_pending", "won"]


def test_refused_win_goes_back_to_approved(acme_member, rep):
    approved = services.deal_decide(registration=submitted(acme_member), by=rep, decision="approve", reason="ok")
    pending = services.deal_report_won(registration=approved, member=acme_member)
    again = services.deal_refuse_won(registration=pending, by=rep, reason="No PO seen")
    assert again.status == Status.APPROVED and again.lead.stage == Lead.Stage.NEW


def test_lost_loses_the_lead(acme_member, rep):
    approved = services.deal_decide(registration=submitted(acme_member), by=rep, decision="approve", reason="ok")
    with pytest.raises(ValidationError):
        services.deal_report_lost(registration=approved, member=acme_member, reason="")
    with pytest.raises(ValidationError):
        services.deal_report_lost(registration=approved, member=acme_member, reason="x" * 301)
    lost = services.deal_report_lost(registration=approved, member=acme_member, reason="Went with a competitor")
    assert lost.status == Status.LOST
    lead = Lead.objects.get(pk=lost.lead_id)
    assert (lead.stage, lead.lost_reason) == (Lead.Stage.LOST, "Went with a competitor")


def test_emails_carry_the_number_and_escape_html(acme_member, rep, mailoutbox):
    registration = submitted(acme_member, company="<b>Evil</b> & Co", notes="<script>alert(1)</script>")
    run = notifications_send_pending_emails()
    assert run.sent == 2
    to_member = next(m for m in mailoutbox if m.to == [acme_member.user.email])
    assert registration.number in to_member.subject and registration.number in to_member.body
    assert "3 business days" in to_member.body
    html = to_member.alternatives[0][0]
    assert "<b>Evil</b>" not in html and "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in html
    to_rep = next(m for m in mailoutbox if m.to == [rep.email])
    assert "<b>Evil</b>" not in to_rep.alternatives[0][0]
    services.deal_decide(registration=registration, by=rep, decision="approve", reason="<i>fine</i>")
    notifications_send_pending_emails()
    decided = [m for m in mailoutbox if "approved" in m.subject]
    assert {m.to[0] for m in decided} == {acme_member.user.email}  # the partner has no admin in this test
    assert "&lt;i&gt;fine&lt;/i&gt;" in decided[0].alternatives[0][0]


def test_partner_admins_and_the_submitter_hear_of_decisions(acme, acme_member, acme_admin, rep):
    quiet = make_member(acme, username="former", email="former@acme.example")
    registration = submitted(quiet)
    quiet.is_active = False  # left the partner since
    quiet.save()
    services.deal_decide(registration=registration, by=rep, decision="reject", reason="no")
    assert list(Notification.objects.filter(event="deal_decided").values_list("recipient_id", flat=True)) == [
        acme_admin.user_id]


def test_a_second_rep_user_is_not_the_reviewer(acme_member, acme):
    newcomer = rep_user(username="rep9")
    acme.assigned_to = newcomer
    acme.save()
    assert submitted(acme_member).reviewer_id == newcomer.pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_form_posted_twice_at_once_is_one_registration():
    """Two requests with the same form token at the same moment (threads, real transactions): one registration,
    submitted once; the other request gets it as it is."""
    import threading

    from django.db import connection

    from tests.factories import PartnerFactory

    rep = rep_user(username="rep-race")
    member = make_member(PartnerFactory(assigned_to=rep), username="racer")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def post():
        try:
            barrier.wait(timeout=10)
            registration = services.deal_save(member=member, form_token="same-form", **FIELDS)
            results.append(services.deal_submit(registration=registration, member=member))
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert DealRegistration.objects.count() == 1
    assert sorted(result.repeated for result in results) == [False, True]
    assert DealEvent.objects.filter(status="submitted").count() == 1
    assert Notification.objects.filter(recipient=rep).count() == 1
