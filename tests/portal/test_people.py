"""Partner users (portal.people_services, portal.people_views, dashboard.portal_people_views): invitations from staff
and from partner admins, their email (sent by the task, retried by beat, escaped), joining by the link (once, in
time, one partner per user), colleagues deactivated and reactivated, access requests by e-mail domain, and the
other partner's ids answering 404 on every verb. Real database, real mail backends (locmem, and aiosmtpd through
tests/smtp.py)."""

import hashlib
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from notifications.models import Notification
from portal.models import AccessRequest, Invitation, Membership, PartnerDomain, PortalEvent
from portal.people_services import (
    INVITATION_MAX_EMAIL_ATTEMPTS,
    ONE_PARTNER_PER_USER,
    InvitationInvalid,
    access_request_create,
    invitation_accept,
    invitation_create,
    invitations_send_emails,
    membership_set_active,
)
from portal.people_tasks import resend_invitations, send_invitation_email
from tests import factories
from tests.factories import PASSWORD
from tests.portal.conftest import make_member
from tests.smtp import refused_smtp, smtp_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "Tangerine-Walrus-42"
INVALID = "This invitation link does not work"
LINK = re.compile(r"https?://[^\s\"<>]+/portal/join/([A-Za-z0-9_\-]+)/")


def sent_token(mail) -> str:
    """The token of the link in an invitation email (the only place it exists)."""
    return LINK.search(mail.body).group(1)


def invite(partner, by, email="new.person@acme.example", name="New Person", role=Membership.Role.MEMBER):
    return invitation_create(partner=partner, email=email, name=name, role=role, by=by)


def invite_and_send(mailoutbox, partner, by, **kwargs) -> tuple[Invitation, str]:
    invitation = invite(partner, by, **kwargs)
    assert send_invitation_email(invitation.pk) == 1
    return invitation, sent_token(mailoutbox[-1])


def logs_in(username, password) -> bool:
    """Through the real login form (django-axes wants the request)."""
    client = Client()
    client.post("/accounts/login/", {"username": username, "password": password})
    return "_auth_user_id" in client.session


def join(client, token, **data):
    form = {"first_name": "Nora", "last_name": "New", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **data}
    return client.post(f"/portal/join/{token}/", form)


# --- Staff invite the first partner admin -----------------------------------------------------------------------------


def test_staff_invite_a_partner_admin_who_joins_and_sees_colleagues(rep_client, rep, acme, mailoutbox,
                                                                    django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://prm.example.com"
    url = f"/partners/{acme.pk}/portal-users/"
    page = rep_client.get(url)
    assert page.status_code == 200 and "Invite a partner admin" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = rep_client.post(url + "invite/", {"email": "  Bob.Boss@ACME.example ", "name": "<b>Bob</b> & Co"})
    assert response.status_code == 302
    assert len(callbacks) == 1  # the email task, enqueued after the commit
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == ("bob.boss@acme.example", "admin", rep)
    assert invitation.emailed_at is None
    assert invitation.expires_at - invitation.created_at == timedelta(days=settings.INVITATION_DAYS)

    assert send_invitation_email(invitation.pk) == 1  # what the worker runs
    [mail] = mailoutbox
    assert mail.to == ["bob.boss@acme.example"]
    assert mail.subject == "Your invitation to the Acme Distribution partner portal"
    token = sent_token(mail)
    link = f"https://prm.example.com/portal/join/{token}/"
    assert "Hello <b>Bob</b> & Co," in mail.body and link in mail.body  # plain text: as typed
    html = mail.alternatives[0][0]
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; Co" in html and "<b>Bob</b>" not in html and f'href="{link}"' in html
    invitation.refresh_from_db()
    assert invitation.emailed_at is not None and invitation.email_attempts == 1
    # Only the SHA-256 of the token is stored.
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not Invitation.objects.filter(token_hash=token).exists()
    assert send_invitation_email(invitation.pk) == 0  # a duplicate task sends nothing
    assert len(mailoutbox) == 1

    visitor = Client()
    form = visitor.get(f"/portal/join/{token}/")
    assert form.status_code == 200
    assert 'name="first_name" value="&lt;b&gt;Bob&lt;/b&gt;"' in form.content.decode()  # from the invitation, escaped
    response = join(visitor, token, first_name="Bob", last_name="Boss")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    user = User.objects.get(username="bob.boss@acme.example")
    assert (user.email, user.first_name, user.last_name, user.is_staff) == ("bob.boss@acme.example", "Bob", "Boss",
                                                                            False)
    assert user.check_password(NEW_PASSWORD)
    membership = user.membership
    assert (membership.partner, membership.role, membership.invited_by) == (acme, "admin", rep)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.accepted_by == user
    assert visitor.session["_auth_user_id"] == str(user.pk)  # signed in
    event = PortalEvent.objects.get(partner=acme)
    assert (event.kind, event.title, event.actor) == ("colleague_joined", "Bob Boss joined", user)
    people = visitor.get("/portal/people/")
    assert people.status_code == 200 and "Bob Boss" in people.content.decode()

    # The staff page shows them.
    body = rep_client.get(url).content.decode()
    assert "Bob Boss" in body and "accepted" in body


def test_staff_invite_only_partner_admins_of_partners_they_see(rep_client, rep, acme, globex):
    response = rep_client.post(f"/partners/{globex.pk}/portal-users/invite/", {"email": "x@globex.example"})
    assert response.status_code == 404
    with pytest.raises(Exception, match="Staff invite partner admins"):
        invite(acme, rep, role=Membership.Role.MEMBER)
    assert not Invitation.objects.exists()


def test_invite_form_refuses_bad_and_oversized_input(rep_client, acme):
    url = f"/partners/{acme.pk}/portal-users/invite/"
    for data in ({"email": "not-an-email"}, {"email": ""}, {"email": "a@b.example", "name": "x" * 151},
                 {"email": "a" * 300 + "@b.example"}):
        response = rep_client.post(url, data)
        assert response.status_code == 400, data
        assert "errorlist" in response.content.decode()
    assert not Invitation.objects.exists()


# --- Tokens -----------------------------------------------------------------------------------------------------------


def test_expired_used_revoked_and_forged_tokens_get_the_same_page(acme_admin, acme, mailoutbox):
    used, used_token = invite_and_send(mailoutbox, acme, acme_admin.user, email="used@acme.example")
    assert join(Client(), used_token).status_code == 302
    expired, expired_token = invite_and_send(mailoutbox, acme, acme_admin.user, email="late@acme.example")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_token = invite_and_send(mailoutbox, acme, acme_admin.user, email="gone@acme.example")
    client = Client()
    client.force_login(acme_admin.user)
    assert client.post(f"/portal/people/invitations/{revoked.pk}/revoke/").status_code == 302
    forged = "x" * 43

    pages = set()
    for token in (used_token, expired_token, revoked_token, forged, "short", "a" * 500):
        for method in ("get", "post"):
            visitor = Client()
            response = getattr(visitor, method)(f"/portal/join/{token}/", {} if method == "get" else {
                "first_name": "Eve", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
            assert response.status_code == 404, (token, method)
            pages.add(response.content)
    assert len(pages) == 1  # byte for byte the same: no hint which
    assert INVALID in pages.pop().decode()
    assert User.objects.filter(username__in=["late@acme.example", "gone@acme.example"]).count() == 0


def test_double_accept_makes_one_user(acme_admin, acme, mailoutbox):
    _invitation, token = invite_and_send(mailoutbox, acme, acme_admin.user)
    before = User.objects.count()
    invitation_accept(token=token, first_name="Nora", last_name="New", password=NEW_PASSWORD)
    with pytest.raises(InvitationInvalid):
        invitation_accept(token=token, first_name="Nora", last_name="New", password=NEW_PASSWORD)
    assert join(Client(), token).status_code == 404  # a second submit of the form
    assert User.objects.count() == before + 1
    assert Membership.objects.filter(partner=acme, user__username="new.person@acme.example").count() == 1


def test_an_address_with_an_account_is_refused_clearly(acme_admin, acme, globex_admin, mailoutbox):
    # Gina works at Globex: one partner per user.
    _invitation, token = invite_and_send(mailoutbox, acme, acme_admin.user, email="GINA@globex.example")
    page = Client().get(f"/portal/join/{token}/")
    assert page.status_code == 200 and ONE_PARTNER_PER_USER in page.content.decode()
    assert 'name="password1"' not in page.content.decode()
    response = join(Client(), token)
    assert response.status_code == 200 and ONE_PARTNER_PER_USER in response.content.decode()
    assert not Invitation.objects.filter(accepted_at__isnull=False).exists()
    assert Membership.objects.filter(user=globex_admin.user).get().partner_id == globex_admin.partner_id


def test_passwords_are_checked_by_djangos_validators(acme_admin, acme, mailoutbox):
    _invitation, token = invite_and_send(mailoutbox, acme, acme_admin.user)
    for password, message in (("short", "too short"), ("password123", "too common"), ("84720193847", "entirely numeric"),
                              ("new.person", "too similar")):
        response = join(Client(), token, password1=password, password2=password)
        assert response.status_code == 200 and message in response.content.decode(), password
    response = join(Client(), token, password2="something-else-entirely")
    assert "The two passwords differ." in response.content.decode()
    response = join(Client(), token, first_name="x" * 151)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not User.objects.filter(username="new.person@acme.example").exists()
    assert join(Client(), token).status_code == 302  # the invitation still works


def test_reinviting_an_address_replaces_its_pending_invitation(acme_admin, acme, mailoutbox):
    first, first_token = invite_and_send(mailoutbox, acme, acme_admin.user)
    second, second_token = invite_and_send(mailoutbox, acme, acme_admin.user)
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None
    assert Client().get(f"/portal/join/{first_token}/").status_code == 404
    assert Client().get(f"/portal/join/{second_token}/").status_code == 200
    with pytest.raises(Exception, match="already works here"):
        invite(acme, acme_admin.user, email="Ada@acme.example")


# --- The invitation email: never lost -------------------------------------------------------------------------------


def test_a_refused_mail_server_keeps_the_invitation_and_beat_sends_it_later(acme_admin, acme, settings,
                                                                            refused_smtp):  # noqa: F811
    invitation = invite(acme, acme_admin.user)
    run = invitations_send_emails(ids=[invitation.pk])
    assert (run.sent, run.failed) == (0, 1)
    invitation.refresh_from_db()
    assert invitation.emailed_at is None and invitation.email_attempts == 1
    assert "ConnectionRefusedError" in invitation.email_error


def test_beat_resends_unsent_invitations_then_gives_up(acme_admin, acme, settings, smtp_server):  # noqa: F811
    invitation = invite(acme, acme_admin.user, name="Zoë <Zed>")
    # The task never ran (Redis was down when the invitation was made): beat finds it.
    assert resend_invitations() == {"claimed": 1, "sent": 1, "failed": 0}
    [(recipients, message)] = smtp_server.messages
    assert recipients == ["new.person@acme.example"]
    assert "Zoë &lt;Zed&gt;" in message.get_body(("html",)).get_content()
    token = LINK.search(message.get_body(("plain",)).get_content()).group(1)
    assert Client().get(f"/portal/join/{token}/").status_code == 200
    assert resend_invitations()["claimed"] == 0  # sent once
    invitation.refresh_from_db()
    assert invitation.emailed_at is not None

    stuck = invite(acme, acme_admin.user, email="stuck@acme.example")
    Invitation.objects.filter(pk=stuck.pk).update(email_attempts=INVITATION_MAX_EMAIL_ATTEMPTS)
    assert resend_invitations()["claimed"] == 0  # given up after the last attempt
    revoked = invite(acme, acme_admin.user, email="revoked@acme.example")
    Invitation.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    assert resend_invitations()["claimed"] == 0  # no longer pending: not sent


def test_five_failed_attempts_then_no_more(acme_admin, acme, refused_smtp):  # noqa: F811
    invitation = invite(acme, acme_admin.user)
    for _ in range(INVITATION_MAX_EMAIL_ATTEMPTS):
        assert resend_invitations()["failed"] == 1
    assert resend_invitations() == {"claimed": 0, "sent": 0, "failed": 0}
    invitation.refresh_from_db()
    assert invitation.email_attempts == INVITATION_MAX_EMAIL_ATTEMPTS and invitation.emailed_at is None


# --- Colleagues -------------------------------------------------------------------------------------------------------


def test_partner_admin_invites_a_colleague_with_a_role(acme_client, acme, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = acme_client.post("/portal/people/invite/", {"email": "Ivy@acme.example", "name": "Ivy",
                                                               "role": "admin"})
    assert response.status_code == 302 and len(callbacks) == 1
    invitation = Invitation.objects.get()
    assert (invitation.partner, invitation.role, invitation.email) == (acme, "admin", "ivy@acme.example")
    page = acme_client.get("/portal/people/").content.decode()
    assert f'id="invitation-{invitation.pk}"' in page and "email not sent yet" in page
    assert acme_client.post("/portal/people/invite/", {"email": "x@acme.example", "role": "owner"}).status_code == 400


def test_members_see_colleagues_but_cannot_manage_them(acme_admin, acme_member):
    client = Client()
    client.force_login(acme_member.user)
    page = client.get("/portal/people/")
    body = page.content.decode()
    assert page.status_code == 200 and "Ada Admin" in body and "Max Member" in body
    assert "Invite a colleague" not in body and "Deactivate" not in body
    invitation = invite(acme_admin.partner, acme_admin.user)
    for url in ("/portal/people/invite/", f"/portal/people/{acme_admin.pk}/deactivate/",
                f"/portal/people/invitations/{invitation.pk}/revoke/"):
        assert client.post(url, {"email": "z@acme.example"}).status_code == 404, url
    acme_admin.refresh_from_db()
    assert acme_admin.is_active


def test_deactivation_ends_the_session_and_reactivation_restores_access(acme_client, acme_admin, acme_member):
    colleague = Client()
    colleague.force_login(acme_member.user)
    assert colleague.get("/portal/").status_code == 200

    assert acme_client.post(f"/portal/people/{acme_member.pk}/deactivate/").status_code == 302
    acme_member.refresh_from_db()
    acme_member.user.refresh_from_db()
    assert (acme_member.is_active, acme_member.user.is_active) == (False, False)
    assert acme_member.deactivated_at is not None
    response = colleague.get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not logs_in(acme_member.user.username, PASSWORD)
    page = acme_client.get("/portal/people/").content.decode()
    assert "no access" in page and "Reactivate" in page

    assert acme_client.post(f"/portal/people/{acme_member.pk}/reactivate/").status_code == 302
    acme_member.refresh_from_db()
    assert acme_member.is_active and User.objects.get(pk=acme_member.user_id).is_active
    assert logs_in(acme_member.user.username, PASSWORD)


def test_nobody_deactivates_themselves_and_a_partner_keeps_an_active_admin(acme_client, acme_admin, acme):
    response = acme_client.post(f"/portal/people/{acme_admin.pk}/deactivate/", follow=True)
    assert "You cannot deactivate yourself." in response.content.decode()
    acme_admin.refresh_from_db()
    assert acme_admin.is_active
    second = make_member(acme, role=Membership.Role.ADMIN, username="bea", first_name="Bea")
    assert membership_set_active(membership=second, active=False, by=acme_admin.user) is True
    # Bea, switched off, cannot switch Ada off in return: Ada stays the partner's active admin.
    with pytest.raises(Exception, match="Only the partner's admins"):
        membership_set_active(membership=acme_admin, active=False, by=second.user)
    acme_admin.refresh_from_db()
    assert acme_admin.is_active
    # The page offers no "Deactivate" on the last active admin (nor on yourself).
    page = acme_client.get("/portal/people/").content.decode()
    assert f'action="/portal/people/{acme_admin.pk}/deactivate/"' not in page
    assert f'action="/portal/people/{second.pk}/reactivate/"' in page


# --- Access requests --------------------------------------------------------------------------------------------------


def test_access_requests_answer_the_same_for_known_and_unknown_domains(acme_admin, acme, rep_client, mailoutbox):
    rep_client.post(f"/partners/{acme.pk}/portal-users/domains/", {"domain": " @ACME.example "})
    assert list(PartnerDomain.objects.values_list("domain", "partner")) == [("acme.example", acme.pk)]

    answers = []
    for email in ("nina@acme.example", "nina@unknown.example", "NINA@acme.example", "ada@acme.example"):
        response = Client().post("/portal/request-access/", {"name": "Nina <i>N</i>", "email": email})
        follow = Client().get(response["Location"])
        answers.append((response.status_code, response["Location"], follow.content))
    assert len(set(answers)) == 1  # the same whatever the domain, a duplicate, an existing account
    assert b"Thank you." in answers[0][2]

    request = AccessRequest.objects.get()  # one: the known domain, once; none for Ada (she has an account)
    assert (request.partner, request.email, request.status) == (acme, "nina@acme.example", "pending")
    notification = Notification.objects.get()
    assert (notification.recipient, notification.event, notification.email_state) == (acme_admin.user,
                                                                                       "access_request", "pending")
    assert notification.link == "/portal/people/#access-requests"

    client = Client()
    client.force_login(acme_admin.user)
    page = client.get("/portal/people/").content.decode()
    assert "Nina &lt;i&gt;N&lt;/i&gt;" in page and "<i>N</i>" not in page
    assert client.post(f"/portal/people/requests/{request.pk}/approve/").status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", acme_admin.user)
    invitation = Invitation.objects.get(email="nina@acme.example")
    assert (invitation.partner, invitation.role, invitation.invited_by) == (acme, "member", acme_admin.user)
    assert client.post(f"/portal/people/requests/{request.pk}/decline/").status_code == 302  # already decided
    request.refresh_from_db()
    assert request.status == "approved"

    declined = access_request_create(name="Otto", email="otto@acme.example")
    assert client.post(f"/portal/people/requests/{declined.pk}/decline/").status_code == 302
    declined.refresh_from_db()
    assert declined.status == "declined"
    assert Invitation.objects.filter(email="otto@acme.example").count() == 0


def test_access_request_form_refuses_bad_input(db):
    for data in ({"name": "", "email": "a@b.example"}, {"name": "A", "email": "nope"},
                 {"name": "x" * 151, "email": "a@b.example"}):
        response = Client().post("/portal/request-access/", data)
        assert response.status_code == 200 and "errorlist" in response.content.decode(), data
    assert not AccessRequest.objects.exists()


def test_staff_manage_domains_of_their_partners_only(rep_client, acme, globex):
    url = f"/partners/{acme.pk}/portal-users/domains/"
    assert rep_client.post(url, {"domain": "not a domain"}).status_code == 400
    assert rep_client.post(url, {"domain": "acme.example"}).status_code == 302
    response = rep_client.post(url, {"domain": "ACME.example"})
    assert response.status_code == 400 and "already registered" in response.content.decode()
    domain = PartnerDomain.objects.get()
    theirs = PartnerDomain.objects.create(partner=globex, domain="globex.example")
    for path in (f"/partners/{globex.pk}/portal-users/", f"/partners/{globex.pk}/portal-users/domains/",
                 f"/partners/{globex.pk}/portal-users/domains/{theirs.pk}/delete/",
                 f"/partners/{acme.pk}/portal-users/domains/{theirs.pk}/delete/"):
        assert rep_client.get(path).status_code == 404, path
        assert rep_client.post(path, {"domain": "x.example"}).status_code == 404, path
    assert rep_client.post(f"/partners/{acme.pk}/portal-users/domains/{domain.pk}/delete/").status_code == 302
    assert list(PartnerDomain.objects.values_list("domain", flat=True)) == ["globex.example"]


# --- Isolation: the other partner's ids -------------------------------------------------------------------------------


def test_every_people_url_with_the_other_partners_ids_is_a_404(globex_client, acme_admin, acme_member, acme, rep):
    invitation = invite(acme, acme_admin.user)
    request = AccessRequest.objects.create(partner=acme, email="ann@acme.example", name="Ann")
    urls = [
        f"/portal/people/{acme_member.pk}/deactivate/",
        f"/portal/people/{acme_member.pk}/reactivate/",
        f"/portal/people/{acme_admin.pk}/deactivate/",
        f"/portal/people/invitations/{invitation.pk}/revoke/",
        f"/portal/people/requests/{request.pk}/approve/",
        f"/portal/people/requests/{request.pk}/decline/",
        # the staff pages of Acme's portal users
        f"/partners/{acme.pk}/portal-users/",
        f"/partners/{acme.pk}/portal-users/invite/",
        f"/partners/{acme.pk}/portal-users/invitations/{invitation.pk}/revoke/",
    ]
    for url in urls:
        for method in ("get", "post", "put", "delete"):
            response = getattr(globex_client, method)(url)
            assert response.status_code == 404, (method, url, response.status_code)
    # Nothing changed at Acme.
    acme_member.refresh_from_db()
    invitation.refresh_from_db()
    request.refresh_from_db()
    assert acme_member.is_active and invitation.revoked_at is None and request.status == "pending"
    # The invite form cannot aim at another partner: it takes none (the admin's own partner is used).
    globex_client.post("/portal/people/invite/", {"email": "spy@x.example", "role": "member", "partner": acme.pk})
    assert Invitation.objects.get(email="spy@x.example").partner_id != acme.pk
    # Globex's people page shows none of Acme's people.
    assert "Ada Admin" not in globex_client.get("/portal/people/").content.decode()


def test_a_rep_of_another_partner_cannot_reach_its_portal_users(client, other_rep, acme, acme_admin):
    invitation = invite(acme, acme_admin.user)
    client.force_login(other_rep)
    for url in (f"/partners/{acme.pk}/portal-users/", f"/partners/{acme.pk}/portal-users/invite/",
                f"/partners/{acme.pk}/portal-users/invitations/{invitation.pk}/revoke/"):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"email": "x@y.example"}).status_code == 404, url


# --- Pages: queries, escaping -----------------------------------------------------------------------------------------


def test_people_page_queries_do_not_grow_with_people(acme_client, acme, acme_admin, django_assert_num_queries):
    for n in range(12):
        make_member(acme, username=f"colleague{n}", first_name=f"<script>{n}</script>")
        invite(acme, acme_admin.user, email=f"invitee{n}@acme.example")
        AccessRequest.objects.create(partner=acme, email=f"asker{n}@acme.example", name=f"Asker {n}")
    # 1. the session  2. the user  3. the membership with partner, tier and rep (portal_member)
    # 4. the people with their users  5. the pending invitations with who invited  6. the waiting access requests
    # 7. the bell's unread messages (the portal layout, portal.templating)
    with django_assert_num_queries(7):
        response = acme_client.get("/portal/people/")
    body = response.content.decode()
    assert body.count('id="person-') == 13 and body.count('id="invitation-') == 12
    assert body.count('id="access-request-') == 12
    assert "&lt;script&gt;3&lt;/script&gt;" in body and "<script>3</script>" not in body


def test_staff_portal_users_page_queries(rep_client, acme, acme_admin, django_assert_num_queries):
    for n in range(8):
        make_member(acme, username=f"colleague{n}")
        invite(acme, acme_admin.user, email=f"invitee{n}@acme.example")
    # 1. session  2. user  3. the visibility check (sees all partners?)  4. the partner with tier and rep
    # 5. people  6. invitations with who invited and who accepted  7. domains  8. waiting access requests
    with django_assert_num_queries(8):
        response = rep_client.get(f"/partners/{acme.pk}/portal-users/")
    assert response.content.decode().count('id="invitation-') == 8


def test_the_staff_partner_page_links_to_its_portal_users(rep_client, acme):
    body = rep_client.get(f"/partners/{acme.pk}/").content.decode()
    assert f'href="/partners/{acme.pk}/portal-users/"' in body


# --- Login ------------------------------------------------------------------------------------------------------------


def test_a_partner_user_logs_in_on_the_staff_login_page_and_lands_on_the_portal(acme_admin, mailoutbox):
    _invitation, token = invite_and_send(mailoutbox, acme_admin.partner, acme_admin.user)
    join(Client(), token)
    client = Client()
    response = client.post("/accounts/login/", {"username": "new.person@acme.example", "password": NEW_PASSWORD},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/portal/"
    assert response.status_code == 200 and "Welcome, Nora" in response.content.decode()


def test_login_throttling_covers_partner_users(acme_member, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    username = acme_member.user.username
    client = Client()
    for _ in range(4):
        assert client.post("/accounts/login/", {"username": username, "password": "wrong"},
                           REMOTE_ADDR="203.0.113.9").status_code == 200
    locked = client.post("/accounts/login/", {"username": username, "password": "wrong"}, REMOTE_ADDR="203.0.113.9")
    assert locked.status_code == 429
    right = client.post("/accounts/login/", {"username": username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.1")
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username=username).exists()


# --- Admin ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


ADMIN_MODELS = ["membership", "invitation", "partnerdomain", "accessrequest", "dealprotection", "dealregistration",
                "sharedlead", "announcement", "announcementread", "portalevent", "profileupdate"]


def _portal_rows(acme, admin_user, n):
    """One row of every portal model (and a fresh partner, user and lead for each), for the admin's lists."""
    from portal.models import (
        Announcement,
        AnnouncementRead,
        DealEvent,
        DealProtection,
        DealRegistration,
        ProfileUpdate,
        SharedLead,
    )

    partner = factories.PartnerFactory()
    member = make_member(partner, username=f"row{n}", role=Membership.Role.ADMIN)
    invite(partner, member.user, email=f"row{n}@acme.example")
    PartnerDomain.objects.create(partner=partner, domain=f"d{n}.example")
    AccessRequest.objects.create(partner=partner, email=f"r{n}@acme.example", name="R")
    tier = factories.tier(["Platinum", "Gold", "Silver"][n % 3])
    DealProtection.objects.get_or_create(tier=tier)
    registration = DealRegistration.objects.create(partner=partner, company=f"Co {n}", created_by=member.user,
                                                   reviewer=partner.assigned_to)
    DealEvent.objects.create(registration=registration, status="submitted", by=member.user)
    SharedLead.objects.create(lead=factories.LeadFactory(partner=partner), partner=partner,
                              shared_by=partner.assigned_to, respond_by=timezone.now())
    announcement = Announcement.objects.create(title=f"News {n}", to_all=True, created_by=admin_user)
    AnnouncementRead.objects.create(announcement=announcement, user=member.user)
    PortalEvent.objects.create(partner=partner, kind="colleague_joined", title="x", actor=member.user,
                               source_key=f"k{n}")
    ProfileUpdate.objects.create(partner=partner, submitted_by=member.user, changes={}, decided_by=admin_user)


def test_admin_lists_every_portal_model_in_constant_queries(admin_client, acme, acme_admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    root = User.objects.get(username="root")
    _portal_rows(acme, root, 0)
    counts = {}
    for model in ADMIN_MODELS:
        with CaptureQueriesContext(connection) as few:
            assert admin_client.get(f"/admin/portal/{model}/").status_code == 200, model
        counts[model] = len(few)
    for n in range(1, 4):  # more rows of each: the same number of queries
        _portal_rows(acme, root, n)
    for model in ADMIN_MODELS:
        with CaptureQueriesContext(connection) as more:
            response = admin_client.get(f"/admin/portal/{model}/")
        assert response.status_code == 200
        assert len(more) == counts[model], (model, [q["sql"][:120] for q in more.captured_queries])
        assert admin_client.get(f"/admin/portal/{model}/1/change/").status_code in (200, 302), model

    invitation = invite(acme, acme_admin.user)
    page = admin_client.get(f"/admin/portal/invitation/{invitation.pk}/change/").content.decode()
    assert "token_hash" not in page and invitation.token_hash not in page
    for model in ADMIN_MODELS:
        add = admin_client.get(f"/admin/portal/{model}/add/").status_code
        assert add == (200 if model in ("partnerdomain", "dealprotection") else 403), model
    admin_client.post(f"/admin/portal/membership/{acme_admin.pk}/change/", {"role": "member", "is_active": ""})
    acme_admin.refresh_from_db()
    assert acme_admin.role == "admin" and acme_admin.is_active


def test_admin_edits_domains_and_deal_protection_through_the_services(admin_client, acme):
    response = admin_client.post("/admin/portal/partnerdomain/add/", {"partner": acme.pk, "domain": " ACME.Example "})
    assert response.status_code == 302
    assert PartnerDomain.objects.get().domain == "acme.example"
    response = admin_client.post("/admin/portal/partnerdomain/add/", {"partner": acme.pk, "domain": "acme.example"})
    assert response.status_code == 200 and PartnerDomain.objects.count() == 1  # unique, with the form's error
    response = admin_client.post("/admin/portal/partnerdomain/add/", {"partner": acme.pk, "domain": "no domain"})
    assert response.status_code == 200 and PartnerDomain.objects.count() == 1
    tier = factories.tier("Gold")
    response = admin_client.post("/admin/portal/dealprotection/add/", {"tier": tier.pk, "days": 60,
                                                                       "extension_days": 15})
    assert response.status_code == 302
    assert tier.deal_protection.days == 60


# --- Edge cases -------------------------------------------------------------------------------------------------------


def test_any_valid_address_can_join_and_sign_in(acme_admin, acme, mailoutbox):
    _invitation, token = invite_and_send(mailoutbox, acme, acme_admin.user, email="O'Brien+sales@acme.example")
    assert join(Client(), token).status_code == 302
    assert User.objects.filter(username="o'brien+sales@acme.example").exists()
    assert logs_in("o'brien+sales@acme.example", NEW_PASSWORD)
    with pytest.raises(Exception, match="at most 150 characters"):
        invite(acme, acme_admin.user, email="a" * 140 + "@acme.example")


def test_the_invitation_survives_redis_being_down(acme_client, acme, caplog, django_capture_on_commit_callbacks):
    import logging

    from tests.prm.test_tasks import _celery_pointed_at, _free_port

    with _celery_pointed_at(f"redis://127.0.0.1:{_free_port()}/0"), caplog.at_level(logging.ERROR, "prm.tasks"):
        with django_capture_on_commit_callbacks(execute=True):
            response = acme_client.post("/portal/people/invite/", {"email": "ivy@acme.example", "role": "member"})
    assert response.status_code == 302
    assert "could not enqueue portal.people_tasks.send_invitation_email" in caplog.text
    invitation = Invitation.objects.get()
    assert invitation.emailed_at is None
    assert resend_invitations()["sent"] == 1  # beat, a few minutes later


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_accepts_make_one_user(mailoutbox):
    import threading

    from django.db import connection

    partner = factories.PartnerFactory()
    admin = make_member(partner, role=Membership.Role.ADMIN, username="racer-admin")
    _invitation, token = invite_and_send(mailoutbox, partner, admin.user)
    barrier, outcomes = threading.Barrier(2), []

    def accept():
        try:
            barrier.wait()
            invitation_accept(token=token, first_name="Nora", last_name="New", password=NEW_PASSWORD)
            outcomes.append("joined")
        except InvitationInvalid:
            outcomes.append("invalid")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["invalid", "joined"]
    assert User.objects.filter(username="new.person@acme.example").count() == 1


def test_beat_resends_invitations_every_few_minutes_and_the_worker_knows_the_tasks():
    from prm.celery import app

    entry = app.conf.beat_schedule["resend-portal-invitations"]
    assert entry["task"] == resend_invitations.name == "portal.people_tasks.resend_invitations"
    assert entry["options"]["expires"] < 300
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert {send_invitation_email.name, resend_invitations.name} <= set(app.tasks)


def test_a_partner_cannot_pile_up_invitations(acme_client, acme, acme_admin):
    from portal.people_services import INVITATIONS_PENDING_MAX

    now = timezone.now()
    Invitation.objects.bulk_create([
        Invitation(partner=acme, email=f"p{n}@acme.example", token_hash=f"{n:064d}", invited_by=acme_admin.user,
                   expires_at=now + timedelta(days=7))
        for n in range(INVITATIONS_PENDING_MAX)
    ])
    response = acme_client.post("/portal/people/invite/", {"email": "one.more@acme.example", "role": "member"})
    assert response.status_code == 400 and "revoke some first" in response.content.decode()
    assert not Invitation.objects.filter(email="one.more@acme.example").exists()
