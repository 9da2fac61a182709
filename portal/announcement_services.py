"""Announcements (messages from the vendor to partners) and their read state: the only code that writes
``Announcement`` and ``AnnouncementRead``.

Decisions:
- Only managers (``partners.selectors.user_sees_all_partners``) publish: an announcement reaches partners of every
  rep. Publishing is immediate (``published_at`` = now); there is no draft or edit — a wrong one is followed by a
  correction, as with an email.
- The link is optional and must be an http(s) URL (``javascript:``, ``data:`` and every other scheme are refused), so
  the portal can render it as a link. Title and body are plain text: the pages escape them.
- Publishing records one ANNOUNCEMENT event in the feed of every partner of the audience with ONE ``INSERT …
  SELECT`` over the partners table (``message_selectors.announcement_audience``): 100k partners are one statement,
  no Python loop, and ``ON CONFLICT DO NOTHING`` on (partner, source_key) makes it idempotent.
- Email: the partners' people get an email notification (``notifications_create``: one INSERT for all) only when the
  audience has at most ``ANNOUNCEMENT_EMAIL_MAX_RECIPIENTS`` active partner users. Above that, no email: a message to
  every partner (300k users at 100k partners) would queue hours of SMTP work in front of every other notification
  (the sender sends 200 a minute, oldest first) — deal decisions and shared leads would wait behind a newsletter — and
  would take a long transaction and ~100 MB of Python to build. Broadcasts belong to the mailing tool; here the
  portal's bell (its unread count) and feed carry them. The staff page says which of the two happened.
- Read state is per user (``AnnouncementRead``, unique per user and announcement): opening marks it read, "mark all
  read" inserts every visible unread one in one ``INSERT … SELECT``; both are ``ON CONFLICT DO NOTHING``, so a double
  click or two tabs are harmless.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from notifications.tasks import send_pending_emails
from partners.models import Partner, Tier
from partners.selectors import user_sees_all_partners
from portal.message_selectors import announcement_audience, announcements_for
from portal.models import Announcement, AnnouncementRead, Membership, PortalEvent
from prm.http import clean_web_address
from prm.tasks import enqueue_on_commit

User = AbstractBaseUser
TITLE_MAX = Announcement._meta.get_field("title").max_length
LINK_MAX = Announcement._meta.get_field("link").max_length
BODY_MAX = 10_000
MAX_CHOSEN_PARTNERS = 1_000


def announcement_clean_link(link: str) -> str:
    """``link`` stripped, "" or an http(s) URL of at most 200 characters; ValidationError naming ``link`` else."""
    return clean_web_address(link, field="link", max_length=LINK_MAX)


@dataclass(frozen=True)
class Published:
    announcement: Announcement
    partners: int  # feed events recorded (partners in the audience)
    recipients: int  # active partner users in the audience (counted up to the email limit + 1)
    emailed: bool  # whether they were notified by email (see the module's decisions)


@transaction.atomic
def announcement_publish(
    *, by: User, title: str, body: str = "", link: str = "", to_all: bool = False, tiers: list[Tier] = (),
    kinds: list[str] = (), partners: list[Partner] = (), now: datetime | None = None,
) -> Published:
    """Publish an announcement to its audience (``to_all``, or the chosen tiers / kinds / partners: the rule in
    portal.message_selectors): the feed events, and the email notifications when the audience is small enough.
    ValidationError naming the field for bad input (nothing written); PermissionDenied for a non-manager."""
    if not user_sees_all_partners(by):
        raise PermissionDenied("managers only")
    now = now or timezone.now()
    errors = {}
    title = " ".join((title or "").split())
    body = (body or "").strip()
    if not title:
        errors["title"] = "Give the message a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title to {TITLE_MAX} characters (it has {len(title)})."
    if len(body) > BODY_MAX:
        errors["body"] = f"Keep the text to {BODY_MAX} characters (it has {len(body)})."
    try:
        link = announcement_clean_link(link)
    except ValidationError as error:
        errors.update(error.message_dict)
    kinds = sorted(set(kinds))
    if set(kinds) - set(Partner.Kind.values):
        errors["kinds"] = "Unknown partner kind."
    tiers, partners = list(tiers), list(partners)
    if len(partners) > MAX_CHOSEN_PARTNERS:
        errors["partners"] = f"Choose at most {MAX_CHOSEN_PARTNERS} partners (or a tier or kind)."
    if not (to_all or tiers or kinds or partners):
        errors["to_all"] = "Choose who gets it: everyone, tiers, kinds of partner, or chosen partners."
    if errors:
        raise ValidationError(errors)
    if to_all:
        tiers, kinds, partners = [], [], []
    announcement = Announcement.objects.create(title=title, body=body, link=link, to_all=to_all, kinds=kinds,
                                               created_by=by, published_at=now)
    if tiers:
        announcement.tiers.add(*tiers)
    if partners:
        announcement.partners.add(*partners)
    audience = announcement_audience(announcement=announcement)
    path = reverse("portal:message_detail", args=[announcement.pk])
    events = _record_events(announcement=announcement, audience=audience, link=path, now=now)
    limit = settings.ANNOUNCEMENT_EMAIL_MAX_RECIPIENTS
    user_ids = list(
        Membership.objects.filter(partner_id__in=audience.order_by().values("pk"), is_active=True,
                                  user__is_active=True)
        .order_by().values_list("user_id", flat=True)[: limit + 1]
    )
    emailed = 0 < len(user_ids) <= limit
    if emailed:
        created = notifications_create(items=[
            NotificationItem(recipient_id=user_id, event=Notification.Event.ANNOUNCEMENT, title=title,
                             body=body[:2000], link=path, source_key=f"announcement:{announcement.pk}")
            for user_id in user_ids
        ])
        if created:
            enqueue_on_commit(send_pending_emails)
    return Published(announcement=announcement, partners=events, recipients=len(user_ids), emailed=emailed)


def _record_events(*, announcement: Announcement, audience, link: str, now: datetime) -> int:
    """One feed event per partner of ``audience``: one INSERT … SELECT (PortalEvent's writes are portal's; the
    one-by-list ``portal.events.portal_events_record`` would need every partner id in Python first)."""
    partner_sql, partner_params = audience.order_by().values("pk").query.sql_with_params()
    table = connection.ops.quote_name(PortalEvent._meta.db_table)
    title_max = PortalEvent._meta.get_field("title").max_length
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (partner_id, kind, title, link, actor_id, source_key, at)
                SELECT a.id, %s, %s, %s, %s, %s, %s FROM ({partner_sql}) AS a(id)
                ON CONFLICT (partner_id, source_key) DO NOTHING""",  # noqa: S608 (table and subquery from the ORM)
            [PortalEvent.Kind.ANNOUNCEMENT, f"New message: {announcement.title}"[:title_max], link,
             announcement.created_by_id, f"announcement:{announcement.pk}", now, *partner_params],
        )
        return cursor.rowcount


# --- Read state -------------------------------------------------------------------------------------------------------


def announcement_mark_read(*, announcement: Announcement, member: Membership) -> bool:
    """``member``'s user has read ``announcement`` (which the caller found through ``announcements_for``): one
    INSERT … ON CONFLICT DO NOTHING. Returns whether it was unread."""
    table = connection.ops.quote_name(AnnouncementRead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (announcement_id, user_id, read_at) VALUES (%s, %s, %s)
                ON CONFLICT (user_id, announcement_id) DO NOTHING""",  # noqa: S608
            [announcement.pk, member.user_id, timezone.now()],
        )
        return cursor.rowcount == 1


def announcements_mark_all_read(*, member: Membership) -> int:
    """Every announcement ``member``'s partner sees is read by ``member``'s user: one INSERT … SELECT. Returns how
    many were unread."""
    visible_sql, visible_params = announcements_for(partner=member.partner).order_by().values("pk").query \
        .sql_with_params()
    table = connection.ops.quote_name(AnnouncementRead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (announcement_id, user_id, read_at)
                SELECT a.id, %s, %s FROM ({visible_sql}) AS a(id)
                ON CONFLICT (user_id, announcement_id) DO NOTHING""",  # noqa: S608 (table and subquery from the ORM)
            [member.user_id, timezone.now(), *visible_params],
        )
        return cursor.rowcount
