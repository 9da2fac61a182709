"""A user's sessions (/accounts/sessions/): listed (this one marked), each ended on its own or all the others at
once; another user's session is a 404 to end; the page's queries do not grow with the number of sessions."""

import pytest
from django.test import Client

from accounts.models import UserSession
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def browsers(user, n, agent="Browser"):
    clients = []
    for i in range(n):
        c = Client(HTTP_USER_AGENT=f"{agent} {i}", REMOTE_ADDR=f"10.0.0.{i + 1}")
        assert c.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
        clients.append(c)
    return clients


def test_sessions_listed_and_ended():
    rep = factories.rep_user(username="pat")
    me, phone, laptop = browsers(rep, 3)
    other = browsers(factories.rep_user(username="sam"), 1)[0]
    page = me.get("/accounts/sessions/")
    rows = page.context["rows"]
    assert [r.user_agent for r in rows] == ["Browser 2", "Browser 1", "Browser 0"]
    assert page.context["current_key"] == me.session.session_key
    assert b"this one" in page.content and b"10.0.0.2" in page.content
    # the phone's session ends: it is signed out, the others are not
    phone_row = next(r for r in rows if r.user_agent == "Browser 1")
    assert me.post(f"/accounts/sessions/{phone_row.pk}/end/")["Location"] == "/accounts/sessions/"
    assert phone.get("/today/")["Location"].startswith("/accounts/login/")
    assert laptop.get("/today/").status_code == 200
    # someone else's session: 404, and it goes on
    theirs = UserSession.objects.get(user__username="sam")
    assert me.post(f"/accounts/sessions/{theirs.pk}/end/").status_code == 404
    assert other.get("/today/").status_code == 200
    # all others
    me.post("/accounts/sessions/end-others/")
    assert laptop.get("/today/")["Location"].startswith("/accounts/login/")
    assert me.get("/today/").status_code == 200
    assert list(UserSession.objects.filter(user=rep).values_list("session_key", flat=True)) == [me.session.session_key]


def test_the_page_does_not_grow_with_sessions(django_assert_num_queries):
    rep = factories.rep_user(username="pat")
    me = browsers(rep, 12)[0]
    # 1 the session, 2 the user, 3 the live sessions with their records (one query, EXISTS on django_session)
    with django_assert_num_queries(3):
        assert me.get("/accounts/sessions/").status_code == 200


def test_ending_needs_a_post_and_a_login(client):
    assert client.get("/accounts/sessions/")["Location"].startswith("/accounts/login/")
    rep = factories.rep_user(username="pat")
    client.force_login(rep)
    assert client.get("/accounts/sessions/1/end/").status_code == 405
