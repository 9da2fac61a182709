"""The messages pages: the managers' /announcements/ (list + new), the portal's /portal/messages/ (unread first,
opening marks read, mark all read), the feed, the bell's count — scoping (another partner's message: 404 on every
verb), HTML escaped, only http(s) links rendered, query counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.announcement_services import announcement_publish
from portal.events import EventItem, portal_events_record
from portal.models import Announcement, AnnouncementRead, PortalEvent
from tests.factories import tier

VERBS = ("get", "post", "put", "delete")
LIST = reverse("portal:messages")
FEED = reverse("portal:feed")
STAFF_LIST = reverse("announcements:list")
STAFF_NEW = reverse("announcements:create")


def publish(manager, **kwargs):
    kwargs.setdefault("title", "Webinar")
    kwargs.setdefault("to_all", not any(k in kwargs for k in ("tiers", "kinds", "partners")))
    return announcement_publish(by=manager, **kwargs).announcement


# --- Staff ------------------------------------------------------------------------------------------------------------


def test_managers_publish_from_the_page(manager_client, acme, acme_admin, globex, globex_admin):
    assert manager_client.get(STAFF_NEW).status_code == 200
    response = manager_client.post(STAFF_NEW, {
        "title": "Gold webinar", "body": "Thursday 10:00", "link": "https://example.com/w",
        "tiers": [tier("Gold").pk], "partner_codes": f"{globex.code}\n",
    })
    assert response.status_code == 302 and response.url == STAFF_LIST
    announcement = Announcement.objects.get()
    assert announcement.link == "https://example.com/w" and list(announcement.partners.all()) == [globex]
    page = manager_client.get(STAFF_LIST)
    html = page.content.decode()
    assert "Gold webinar" in html and "1 chosen partners" in html and "published to 2 partners" in html
    assert f'href="{STAFF_LIST}" aria-current="page"' in html  # "Messages" in a manager's navigation


def test_the_form_refuses_bad_input(manager_client, acme):
    response = manager_client.post(STAFF_NEW, {"title": "<b>x</b>", "link": "javascript:alert(1)"})
    html = response.content.decode()
    assert response.status_code == 400 and "https://" in html and "Choose who gets it" not in html
    response = manager_client.post(STAFF_NEW, {"title": "x"})
    assert response.status_code == 400 and "Choose who gets it" in response.content.decode()
    response = manager_client.post(STAFF_NEW, {"title": "x", "partner_codes": "NOPE, <script>"})
    html = response.content.decode()
    assert response.status_code == 400 and "No partner has the code" in html and "<script>" not in html
    response = manager_client.post(STAFF_NEW, {"title": "x" * 201, "to_all": "on"})
    assert response.status_code == 400
    assert not Announcement.objects.exists()


def test_staff_pages_are_for_managers_only(rep_client, rep):
    for url in (STAFF_LIST, STAFF_NEW):
        assert rep_client.get(url).status_code == 404
        assert rep_client.post(url, {"title": "x", "to_all": "on"}).status_code in (404, 405)
    assert not Announcement.objects.exists()
    assert STAFF_LIST not in rep_client.get(reverse("today")).content.decode()  # no "Messages" tab for a rep


def test_partner_users_never_reach_the_staff_pages(acme_client):
    assert acme_client.get(STAFF_LIST).status_code == 404
    assert acme_client.post(STAFF_NEW, {"title": "x", "to_all": "on"}).status_code == 404


def test_staff_list_query_count(manager_client, manager, acme, django_assert_num_queries):
    for n in range(30):
        publish(manager, title=f"M{n}", tiers=[tier("Gold"), tier("Silver")], partners=[acme])
    # 1. session, 2. user, 3. the manager check, 4. the page's announcements with author, chosen and read counts,
    # 5. their tiers (prefetch).
    with django_assert_num_queries(5):
        response = manager_client.get(STAFF_LIST)
    assert len(response.context["announcements"]) == 25 and response.context["page"].has_next


# --- Portal: messages -------------------------------------------------------------------------------------------------


def test_list_unread_first_and_opening_marks_read(acme_client, acme_admin, manager):
    old = publish(manager, title="Old news")
    new = publish(manager, title="New price list")
    AnnouncementRead.objects.create(announcement=new, user=acme_admin.user)
    response = acme_client.get(LIST)
    rows = response.context["announcements"]
    assert [a.pk for a in rows] == [old.pk, new.pk]  # unread first, although older
    html = response.content.decode()
    assert 'class="badge" data-unread-count>1<' in html and "1 unread" in html
    detail = acme_client.get(reverse("portal:message_detail", args=[old.pk]))
    assert detail.status_code == 200
    assert AnnouncementRead.objects.filter(announcement=old, user=acme_admin.user).exists()
    assert "data-unread-count" not in detail.content.decode()  # the bell counts after the read


def test_mark_all_read(acme_client, acme_admin, manager):
    publish(manager, title="A")
    publish(manager, title="B")
    response = acme_client.post(reverse("portal:messages_read_all"))
    assert response.status_code == 302 and response.url == LIST
    assert AnnouncementRead.objects.filter(user=acme_admin.user).count() == 2
    assert acme_client.get(reverse("portal:messages_read_all")).status_code == 405


def test_html_is_escaped_and_only_http_links_become_links(acme_client, manager):
    announcement = publish(manager, title="<script>alert(1)</script>", body="<img src=x onerror=alert(1)>\nline 2",
                           link="https://example.com/a?b=1&c=2")
    html = acme_client.get(reverse("portal:message_detail", args=[announcement.pk])).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and "&lt;img" in html and "<br>" in html
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html and 'rel="noopener noreferrer"' in html
    # A row written around the service (the admin, SQL) with a javascript: link is not rendered as a link.
    Announcement.objects.filter(pk=announcement.pk).update(link="javascript:alert(1)")
    html = acme_client.get(reverse("portal:message_detail", args=[announcement.pk])).content.decode()
    assert "javascript:" not in html and 'id="message-link"' not in html


def test_another_partners_message_is_404_on_every_verb(acme_client, acme, globex, manager):
    theirs = publish(manager, partners=[globex])
    url = reverse("portal:message_detail", args=[theirs.pk])
    for verb in VERBS:
        assert getattr(acme_client, verb)(url).status_code == 404, verb
    assert not AnnouncementRead.objects.exists()
    assert theirs.pk not in [a.pk for a in acme_client.get(LIST).context["announcements"]]


def test_tier_audience_in_the_portal(acme_client, acme, manager, globex_admin):
    silver = publish(manager, tiers=[tier("Silver")], title="Silver only")
    assert acme_client.get(reverse("portal:message_detail", args=[silver.pk])).status_code == 404
    acme_client.force_login(globex_admin.user)
    assert acme_client.get(reverse("portal:message_detail", args=[silver.pk])).status_code == 200


def test_staff_do_not_reach_the_portal_messages(rep_client, manager):
    announcement = publish(manager)
    for url in (LIST, FEED, reverse("portal:message_detail", args=[announcement.pk])):
        assert rep_client.get(url).status_code == 404


def test_list_query_count(acme_client, acme_admin, manager, django_assert_num_queries):
    for n in range(30):
        publish(manager, title=f"M{n}")
    # 1. session, 2. user, 3. membership with partner and tier, 4. the page's announcements with this user's read
    # state, 5. the unread count (the page is full of unread ones and there are more: counted once, for the heading
    # and the bell).
    with django_assert_num_queries(5):
        response = acme_client.get(LIST)
    assert len(response.context["announcements"]) == 25 and response.context["unread"] == 30
    AnnouncementRead.objects.bulk_create([AnnouncementRead(announcement=a, user=acme_admin.user)
                                          for a in Announcement.objects.all()[:10]])
    # The 20 unread fit on page 1: the count comes from the page (4 queries).
    with django_assert_num_queries(4):
        response = acme_client.get(LIST)
    assert response.context["unread"] == 20
    assert acme_client.get(LIST, {"page": "2"}).context["unread"] == 20
    assert acme_client.get(LIST, {"page": "x"}).status_code == 200


def test_detail_query_count(acme_client, manager, django_assert_num_queries):
    announcement = publish(manager)
    # 1. session, 2. user, 3. membership, 4. the announcement with the read state, 5. the read mark, 6. the bell.
    with django_assert_num_queries(6):
        acme_client.get(reverse("portal:message_detail", args=[announcement.pk]))


# --- Portal: the feed -------------------------------------------------------------------------------------------------


def test_feed_newest_first_paginated_and_scoped(acme_client, acme, globex, django_assert_num_queries):
    now = timezone.now()
    portal_events_record(items=[
        EventItem(partner_id=acme.pk, kind=PortalEvent.Kind.ANNOUNCEMENT, title=f"Event {n:02d} <b>",
                  source_key=f"t:{n}", link="/portal/messages/" if n % 2 else "javascript:alert(1)")
        for n in range(30)
    ], at=now - timedelta(hours=1))
    portal_events_record(items=[EventItem(partner_id=acme.pk, kind=PortalEvent.Kind.LEAD_SHARED, title="Newest",
                                          source_key="t:new")], at=now)
    portal_events_record(items=[EventItem(partner_id=globex.pk, kind=PortalEvent.Kind.LEAD_SHARED,
                                          title="Globex secret", source_key="t:g")], at=now)
    # 1. session, 2. user, 3. membership, 4. the page's events, 5. the bell's unread count.
    with django_assert_num_queries(5):
        response = acme_client.get(FEED)
    events = response.context["events"]
    html = response.content.decode()
    assert events[0].title == "Newest" and len(events) == 25 and response.context["page"].has_next
    assert "Globex secret" not in html
    assert "javascript:" not in html and "&lt;b&gt;" in html
    page2 = acme_client.get(FEED, {"page": "2"})
    assert len(page2.context["events"]) == 6


def test_publishing_puts_it_in_the_feed(acme_client, acme, manager):
    announcement = publish(manager, title="Training <b>day</b>")
    html = acme_client.get(FEED).content.decode()
    assert f'href="/portal/messages/{announcement.pk}/"' in html and "Training &lt;b&gt;day" in html


@pytest.mark.parametrize("url", [LIST, FEED])
def test_the_bell_on_every_portal_page(acme_client, manager, url):
    publish(manager)
    publish(manager)
    assert 'data-unread-count>2<' in acme_client.get(url).content.decode()
