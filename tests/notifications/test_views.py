"""The notification list, the bell's unread.json and marking read: scoped to the signed-in user (others' → 404 on
every verb), safe redirects, and a constant number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create

pytestmark = pytest.mark.django_db


def make(user, n=1, *, start=0, link="/partners/1/#activity-1"):
    notifications_create(items=[
        NotificationItem(recipient_id=user.pk, event=Notification.Event.REMINDER_DUE, title=f"Reminder {i} <b>",
                         body="Due soon", link=link, source_key=f"k{i}")
        for i in range(start, start + n)
    ])
    return list(Notification.objects.filter(recipient=user).order_by("id"))


def test_unread_json_counts_only_mine_and_is_not_cached(rep_client, rep, other_rep):
    make(other_rep, 2)
    assert rep_client.get("/notifications/unread.json").json() == {"unread": 0, "label": ""}
    mine = make(rep, 3)
    Notification.objects.filter(pk=mine[0].pk).update(read_at=timezone.now())
    response = rep_client.get("/notifications/unread.json")
    assert response.json() == {"unread": 2, "label": "2"}
    cache = response["Cache-Control"]
    assert "private" in cache and "no-store" in cache


def test_unread_count_is_capped(rep_client, rep):
    make(rep, 101)
    assert rep_client.get("/notifications/unread.json").json() == {"unread": 100, "label": "99+"}


def test_unread_json_asks_for_a_login(client):
    response = client.get("/notifications/unread.json")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_list_shows_unread_first_and_bold_with_actions(rep_client, rep, other_rep):
    old_unread, read, new_unread = make(rep, 3)
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    Notification.objects.filter(pk=old_unread.pk).update(created_at=timezone.now() - timedelta(days=1))
    make(other_rep, 1, start=10)

    response = rep_client.get("/notifications/")
    html = response.content.decode()
    assert response.status_code == 200
    order = [html.index(f'id="notification-{n.pk}"') for n in (new_unread, old_unread, read)]
    assert order == sorted(order)  # unread (newest first), then read
    assert "Reminder 10" not in html  # someone else's
    assert html.count('class="notification is-unread"') == 2 and html.count('class="notification is-read"') == 1
    assert "Reminder 0 &lt;b&gt;" in html  # escaped
    assert html.count(">Mark read</button>") == 2 and "Mark all read" in html
    assert f'action="/notifications/{new_unread.pk}/read/"' in html
    assert 'name="next" value="/partners/1/#activity-1"' in html  # the title opens the object (and marks it read)
    assert "2 unread" in html


def test_list_queries_are_constant(rep_client, rep, django_assert_num_queries):
    make(rep, 60)  # more than a page: an N+1 would show
    # 1. the session, 2. the user, 3. the page's rows (26: one more than a page tells whether there is a next),
    # 4. the unread count (the first page is all unread, so it cannot tell the total)
    with django_assert_num_queries(4):
        response = rep_client.get("/notifications/")
    assert response.status_code == 200 and 'rel="next"' in response.content.decode()
    Notification.objects.filter(recipient=rep).update(read_at=timezone.now())
    make(rep, 2, start=100)
    # 1. the session, 2. the user, 3. the rows (the page shows fewer unread than rows: they are all of them)
    with django_assert_num_queries(3):
        response = rep_client.get("/notifications/?page=1")
    assert response.context["unread"] == 2
    # Page 3: 1. session, 2. user, 3. rows, 4. the unread count
    with django_assert_num_queries(4):
        assert rep_client.get("/notifications/?page=3").status_code == 200


def test_unread_json_queries(rep_client, rep, django_assert_num_queries):
    make(rep, 5)
    # 1. the session, 2. the user, 3. the capped count
    with django_assert_num_queries(3):
        rep_client.get("/notifications/unread.json")


def test_someone_elses_notification_is_404_on_every_verb(rep_client, other_rep):
    [theirs] = make(other_rep)
    url = f"/notifications/{theirs.pk}/read/"
    assert rep_client.get(url).status_code == 404
    assert rep_client.post(url).status_code == 404
    assert rep_client.post("/notifications/999999/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_read_is_post_only_and_redirects_to_a_safe_next(rep_client, rep):
    first, second, third = make(rep, 3)
    url = f"/notifications/{first.pk}/read/"
    assert rep_client.get(url).status_code == 405
    assert Notification.objects.get(pk=first.pk).read_at is None

    response = rep_client.post(url, {"next": "/partners/1/#activity-1"})
    assert response.status_code == 302 and response["Location"] == "/partners/1/#activity-1"
    assert Notification.objects.get(pk=first.pk).read_at is not None
    for unsafe in ("https://evil.example.com/", "//evil.example.com/x", "javascript:alert(1)"):
        response = rep_client.post(f"/notifications/{second.pk}/read/", {"next": unsafe})
        assert response["Location"] == "/notifications/", unsafe
    assert rep_client.post(f"/notifications/{third.pk}/read/")["Location"] == "/notifications/"


def test_mark_all_read(rep_client, rep, other_rep):
    make(rep, 3)
    make(other_rep, 1)
    assert rep_client.get("/notifications/read-all/").status_code == 405
    response = rep_client.post("/notifications/read-all/", {"next": "/notifications/?page=1"})
    assert response["Location"] == "/notifications/?page=1"
    assert not Notification.objects.filter(recipient=rep, read_at=None).exists()
    assert Notification.objects.filter(recipient=other_rep, read_at=None).count() == 1


def test_empty_list_and_bad_page(rep_client):
    assert "No notifications yet" in rep_client.get("/notifications/").content.decode()
    assert rep_client.get("/notifications/?page=abc").status_code == 200
    assert "No more notifications" in rep_client.get("/notifications/?page=99999999999").content.decode()
