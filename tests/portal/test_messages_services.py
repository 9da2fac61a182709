"""portal.announcement_services and portal.message_selectors: who gets an announcement (all, tiers, kinds, chosen
partners — the selector and the publish-time audience agree), the feed events in one statement, emails (or not, above
the limit), link scheme safety, read state per user."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from partners.models import Partner
from portal.announcement_services import (
    announcement_mark_read,
    announcement_publish,
    announcements_mark_all_read,
)
from portal.message_selectors import announcements_for, unread_announcements_count
from portal.models import Announcement, AnnouncementRead, PortalEvent
from tests import factories
from tests.factories import tier
from tests.portal.conftest import make_member


@pytest.fixture
def world(db, acme, globex):
    """acme: Gold organisation; globex: Silver organisation; solo: Gold individual; plat: Platinum organisation;
    bare: no tier, individual."""
    return {
        "acme": acme,
        "globex": globex,
        "solo": factories.PartnerFactory(name="Solo", tier=tier("Gold"), kind=Partner.Kind.INDIVIDUAL),
        "plat": factories.PartnerFactory(name="Plat", tier=tier("Platinum")),
        "bare": factories.PartnerFactory(name="Bare", tier=None, kind=Partner.Kind.INDIVIDUAL),
    }


def publish(manager, **kwargs):
    kwargs.setdefault("title", "Webinar")
    return announcement_publish(by=manager, **kwargs)


def seen_by(world, announcement):
    return {key for key, partner in world.items()
            if announcements_for(partner=partner).filter(pk=announcement.pk).exists()}


def events_for(world, announcement):
    partner_ids = set(PortalEvent.objects.filter(source_key=f"announcement:{announcement.pk}")
                      .values_list("partner_id", flat=True))
    return {key for key, partner in world.items() if partner.pk in partner_ids}


AUDIENCES = [
    ({"to_all": True}, {"acme", "globex", "solo", "plat", "bare"}),
    ({"tiers": ["Gold"]}, {"acme", "solo"}),
    ({"tiers": ["Gold", "Silver"]}, {"acme", "solo", "globex"}),
    ({"kinds": ["individual"]}, {"solo", "bare"}),
    ({"tiers": ["Gold"], "kinds": ["individual"]}, {"solo"}),  # both chosen: both must match
    ({"partners": ["globex"]}, {"globex"}),
    ({"tiers": ["Platinum"], "partners": ["bare"]}, {"plat", "bare"}),  # chosen partners come on top
]


@pytest.mark.parametrize(("audience", "expected"), AUDIENCES, ids=lambda v: str(v))
def test_audience_rules_selector_and_feed_agree(world, manager, audience, expected):
    kwargs = dict(audience)
    if "tiers" in kwargs:
        kwargs["tiers"] = [tier(name) for name in kwargs["tiers"]]
    if "partners" in kwargs:
        kwargs["partners"] = [world[key] for key in kwargs["partners"]]
    published = publish(manager, **kwargs)
    assert seen_by(world, published.announcement) == expected
    assert events_for(world, published.announcement) == expected
    assert published.partners == len(expected)


def test_to_all_ignores_the_other_choices(world, manager):
    published = publish(manager, to_all=True, tiers=[tier("Gold")], kinds=["individual"])
    announcement = published.announcement
    assert not announcement.tiers.exists() and announcement.kinds == []
    assert seen_by(world, announcement) == set(world)


def test_an_audience_is_required_and_fields_are_checked(world, manager):
    with pytest.raises(ValidationError) as caught:
        publish(manager, title="  ", body="x" * 10_001, link="javascript:alert(1)", kinds=["robot"])
    errors = caught.value.message_dict
    assert set(errors) == {"title", "body", "link", "kinds"}
    with pytest.raises(ValidationError) as caught:
        publish(manager)
    assert "Choose who gets it" in caught.value.message_dict["to_all"][0]
    assert not Announcement.objects.exists() and not PortalEvent.objects.exists()


@pytest.mark.parametrize("link", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>x</b>",
                                  "ftp://files.example.com/a", "//evil.example.com", "example.com/x", "https://",
                                  "https://" + "a" * 200 + ".com"])
def test_only_http_links(world, manager, link):
    with pytest.raises(ValidationError) as caught:
        publish(manager, to_all=True, link=link)
    assert "link" in caught.value.message_dict


def test_http_and_https_links_are_kept(world, manager):
    assert publish(manager, to_all=True, link=" https://example.com/webinar?id=1 ").announcement.link == \
        "https://example.com/webinar?id=1"
    assert publish(manager, to_all=True, link="http://example.com/").announcement.link == "http://example.com/"


def test_only_managers_publish(world, rep):
    with pytest.raises(PermissionDenied):
        publish(rep, to_all=True)


def test_publish_notifies_active_partner_users_in_one_insert(world, manager, acme_admin, acme_member, globex_admin):
    gone = make_member(world["acme"], username="gone")
    gone.is_active = False
    gone.save()
    published = publish(manager, tiers=[tier("Gold")], title="New price list", body="<b>10%</b> off")
    assert published.emailed and published.recipients == 2
    rows = Notification.objects.filter(event=Notification.Event.ANNOUNCEMENT)
    assert {n.recipient_id for n in rows} == {acme_admin.user_id, acme_member.user_id}
    assert rows.first().link == f"/portal/messages/{published.announcement.pk}/"
    assert rows.first().email_state == Notification.Email.PENDING


def test_above_the_email_limit_nobody_is_emailed(world, manager, acme_admin, acme_member, globex_admin, settings):
    settings.ANNOUNCEMENT_EMAIL_MAX_RECIPIENTS = 2
    published = publish(manager, to_all=True)
    assert not published.emailed and published.recipients == 3
    assert not Notification.objects.exists()
    assert published.partners == len(world)  # the feed still has it everywhere


def test_publish_is_set_based(manager, db):
    """The feed events of any number of partners: one INSERT … SELECT (no statement per partner)."""
    for n in range(40):
        factories.PartnerFactory(name=f"P{n}")
    with CaptureQueriesContext(connection) as queries:
        published = publish(manager, to_all=True)
    assert published.partners == Partner.objects.count()
    inserts = [q["sql"] for q in queries.captured_queries if "portal_portalevent" in q["sql"]]
    assert len(inserts) == 1 and inserts[0].lstrip().startswith("INSERT")
    assert len(queries.captured_queries) <= 8


def test_read_state_is_per_user(world, manager, acme_admin, acme_member):
    first = publish(manager, to_all=True, title="First").announcement
    second = publish(manager, to_all=True, title="Second").announcement
    assert unread_announcements_count(member=acme_admin) == 2
    assert announcement_mark_read(announcement=first, member=acme_admin) is True
    assert announcement_mark_read(announcement=first, member=acme_admin) is False  # twice: one row
    assert unread_announcements_count(member=acme_admin) == 1
    assert unread_announcements_count(member=acme_member) == 2  # a colleague's read state is theirs
    assert announcements_mark_all_read(member=acme_member) == 2
    assert announcements_mark_all_read(member=acme_member) == 0
    assert unread_announcements_count(member=acme_member) == 0
    assert AnnouncementRead.objects.filter(user=acme_admin.user).count() == 1
    assert second.pk not in set(AnnouncementRead.objects.filter(user=acme_admin.user)
                                .values_list("announcement_id", flat=True))


def test_mark_all_read_covers_only_what_the_partner_sees(world, manager, acme_admin):
    publish(manager, to_all=True)
    publish(manager, partners=[world["globex"]])  # not acme's
    assert announcements_mark_all_read(member=acme_admin) == 1


def test_unread_count_is_capped(world, manager, acme_admin):
    for n in range(5):
        publish(manager, to_all=True, title=f"M{n}")
    assert unread_announcements_count(member=acme_admin, cap=3) == 4


def test_the_announcement_email_is_escaped(world, manager, acme_admin, mailoutbox):
    from notifications.services import notifications_send_pending_emails

    published = publish(manager, to_all=True, title="Webinar <i>now</i>", body="<script>alert(1)</script>")
    notifications_send_pending_emails()
    assert [m.to for m in mailoutbox] == [["ada@acme.example"]]
    html = mailoutbox[0].alternatives[0][0]
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html and "<i>now</i>" not in html
    assert f"/portal/messages/{published.announcement.pk}/" in mailoutbox[0].body
