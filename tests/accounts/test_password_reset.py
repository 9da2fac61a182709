"""Password reset by email through a real SMTP server (tests/smtp.py): the same answer whether the address has an
account or not, a link that works once and expires, pointing at SITE_URL; a mail server that is down changes nothing
the person sees."""

import re

import pytest
from django.contrib.auth import get_user_model

from tests import factories
from tests.accounts.conftest import ask_reset
from tests.smtp import refused_smtp  # noqa: F401 (fixture)

User = get_user_model()
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reset_worker")]
NEW_PASSWORD = "Tangerine-Walrus-42"


ask = ask_reset


def link_in(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https://prm\.example\.com(/accounts/reset/[^/\s]+/[^/\s]+/)", body).group(1)


def test_the_login_page_links_to_the_reset_form(client):
    assert b'href="/accounts/password-reset/"' in client.get("/accounts/login/").content
    assert client.get("/accounts/password-reset/").status_code == 200


def test_same_answer_whether_the_address_exists(client, smtp_server):
    factories.rep_user(username="asha", email="asha@example.com")
    known, unknown = ask(client, "ASHA@example.com"), ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password-reset/sent/"
    sent = client.get("/accounts/password-reset/sent/")
    assert b"If an account uses that address" in sent.content
    [(recipients, message)] = smtp_server.messages  # one email: to the account that exists
    assert recipients == ["asha@example.com"] and message["Subject"] == "Reset your PRM password"


def test_the_link_sets_a_new_password_once(client, smtp_server):
    rep = factories.rep_user(username="asha", email="asha@example.com")
    ask(client, "asha@example.com")
    link = link_in(smtp_server.messages[0][1])
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    rep.refresh_from_db()
    assert rep.check_password(NEW_PASSWORD)
    # used twice: the link is dead (its token hashed the old password)
    again = client.get(link, follow=True)
    assert not again.context["validlink"] and b"This link does not work any more" in again.content
    assert client.post("/accounts/login/", {"username": "asha", "password": NEW_PASSWORD}).status_code == 302


def test_an_expired_link_is_refused(client, smtp_server, settings):
    factories.rep_user(username="asha", email="asha@example.com")
    ask(client, "asha@example.com")
    link = link_in(smtp_server.messages[0][1])
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is now older than the timeout
    page = client.get(link, follow=True)
    assert not page.context["validlink"] and b"This link does not work any more" in page.content


def test_a_tampered_link_is_refused(client, smtp_server):
    other = factories.rep_user(username="boss", email="boss@example.com")
    factories.rep_user(username="asha", email="asha@example.com")
    ask(client, "asha@example.com")
    link = link_in(smtp_server.messages[0][1])
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    forged = re.sub(r"/reset/[^/]+/", f"/reset/{urlsafe_base64_encode(force_bytes(other.pk))}/", link)
    assert not client.get(forged, follow=True).context["validlink"]
    assert not client.get("/accounts/reset/zzz/bad-token/", follow=True).context["validlink"]


def test_a_mail_server_that_is_down_gives_the_same_answer(client, refused_smtp):  # noqa: F811
    factories.rep_user(username="asha", email="asha@example.com")
    response = ask(client, "asha@example.com")
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/sent/"


def test_the_request_only_queues_the_lookup_and_the_email(client, smtp_server, django_assert_num_queries):
    """The answer does the same work whether an account uses the address or not: nothing but the session (no user
    lookup), the email waits for the task."""
    factories.rep_user(username="asha", email="asha@example.com")
    for email in ("asha@example.com", "nobody@example.com"):
        with django_assert_num_queries(0):
            response = client.post("/accounts/password-reset/", {"email": email})
        assert response.status_code == 302
    assert smtp_server.messages == []


def test_bad_input_is_a_field_error(client):
    response = ask(client, "not-an-address")
    assert response.status_code == 200 and response.context["form"].errors["email"]
