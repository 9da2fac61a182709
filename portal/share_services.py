"""Leads shared with partners: the only code that writes ``SharedLead``.

A rep (or a manager) hands an open lead to a partner with a note; the partner's people accept or decline it within
``SHARED_LEAD_ACCEPT_DAYS``, and once accepted record their follow-up within ``SHARED_LEAD_FOLLOW_UP_DAYS``. A decline,
or a deadline missed, returns the lead to the rep (who is notified); staff may withdraw an open share.

Decisions:
- One open share per lead: the partial unique constraint ``shared_lead_one_open`` is the guarantee; ``lead_share``
  also locks the lead's row first, so two submits wait for each other and the second is told the lead is shared.
- Who may share what: ``leads.selectors.leads_visible_to`` (the lead) and ``partners.selectors.partner_visible_to``
  (the partner), checked here as well as by the views' 404s, so no caller can share past them. The partner must have
  at least one active portal user: nobody else could ever answer, and the lead would only sit out its deadline.
- Accepting makes the lead the partner's (``leads.services.lead_update(partner=…)``), so it counts as the partner's in
  "leads generated". The assignee (the rep) is left alone: the rep keeps the lead in their list and it comes back to
  them by itself. A share that expires after acceptance keeps that partner on the lead: it held the lead, and
  whether to move it elsewhere is the rep's call (the lead's edit page) — writing leads row by row from the expiry
  task would break its set-based contract.
- Deadlines are strict and do not depend on when the beat task runs: accepting after ``respond_by``, or following up
  after ``follow_up_by``, is refused even if the expiry has not run yet.
- Partner actions lock the share row (``SELECT … FOR UPDATE``) and check its status, so a double tap acts once and
  a decline racing an expiry ends in one of them, never both.
- The beat work (``shared_leads_remind`` / ``shared_leads_expire``) claims rows with one conditional ``UPDATE …
  RETURNING`` each (``reminded`` 0 → 1; status open → expired): a second run, or a second worker, finds nothing new.
  Notifications and feed events of a run are written in the same transaction as the claim, keyed by a source key, so
  they exist exactly once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from leads.selectors import leads_visible_to
from leads.services import lead_update
from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from notifications.tasks import send_pending_emails
from partners.models import Partner
from partners.selectors import partner_visible_to
from portal.events import EventItem, portal_events_record
from portal.models import Membership, PortalEvent, SharedLead
from portal.selectors import active_member_user_ids
from prm.tasks import enqueue_on_commit

User = AbstractBaseUser
Status = SharedLead.Status
NOTE_MAX = SharedLead._meta.get_field("note").max_length
RESPONSE_MAX = SharedLead._meta.get_field("response_note").max_length


# --- Helpers ----------------------------------------------------------------------------------------------------------


def _clean_text(value: str, *, field: str, required: str = "", limit: int) -> str:
    """Surrounding blanks dropped; required (when ``required`` is the message) and at most ``limit`` characters."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: required})
    if len(value) > limit:
        raise ValidationError({field: f"Keep it to {limit} characters (it has {len(value)})."})
    return value


def _lead_label(name: str, company: str) -> str:
    return f"{name} · {company}" if company else name


def _portal_link(share_id: int) -> str:
    return reverse("portal:lead_detail", args=[share_id])


def _staff_link(lead_id: int) -> str:
    return reverse("leads:detail", args=[lead_id])


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%d %b %Y, %H:%M}"


def _lock_for_member(share: SharedLead, member: Membership) -> SharedLead:
    """The share's row, locked and re-read, if it is ``member``'s partner's (else a 404-worthy PermissionDenied:
    views only pass shares they found through the member's scope)."""
    locked = SharedLead.objects.select_for_update().filter(pk=share.pk, partner_id=member.partner_id).first()
    if locked is None or not member.is_active:
        raise PermissionDenied("not this partner's lead")
    return locked


def _copy(target: SharedLead, source: SharedLead) -> SharedLead:
    for field in SharedLead._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    return target


def _notify(items: list[NotificationItem]) -> None:
    if items and notifications_create(items=items):
        enqueue_on_commit(send_pending_emails)


def _partner_items(*, partner_id: int, event: str, title: str, body: str, link: str, key: str,
                   members: dict[int, list[int]] | None = None) -> list[NotificationItem]:
    members = members if members is not None else active_member_user_ids(partner_ids=[partner_id])
    return [NotificationItem(recipient_id=user_id, event=event, title=title, body=body, link=link, source_key=key)
            for user_id in members.get(partner_id, [])]


# --- Staff: share, withdraw -------------------------------------------------------------------------------------------


@transaction.atomic
def lead_share(*, lead: Lead, partner: Partner, by: User, note: str = "", now: datetime | None = None) -> SharedLead:
    """Offer ``lead`` to ``partner``: it must answer by now + ``SHARED_LEAD_ACCEPT_DAYS``. Its active users are
    notified (and emailed) and the partner's feed gets a "new lead" event.

    Refused (ValidationError, nothing written): a closed lead, a lead already shared (open), a partner without active
    portal users, a note over 1,000 characters. PermissionDenied when ``by`` may not see the lead or the partner."""
    now = now or timezone.now()
    note = _clean_text(note, field="note", limit=NOTE_MAX)
    if not leads_visible_to(by).filter(pk=lead.pk).exists() or not partner_visible_to(by).filter(pk=partner.pk).exists():
        raise PermissionDenied("the lead or the partner is not yours")
    locked = Lead.objects.select_for_update().only("pk", "name", "company", "stage").get(pk=lead.pk)
    if locked.stage not in Lead.OPEN_STAGES:
        raise ValidationError(f"This lead is already {locked.get_stage_display().lower()}: only an open lead can be "
                              "shared.")
    open_share = SharedLead.objects.filter(lead_id=lead.pk, status__in=SharedLead.OPEN).select_related("partner").first()
    if open_share is not None:
        raise ValidationError(f"This lead is already shared with {open_share.partner.name} "
                              f"({open_share.get_status_display().lower()}): withdraw that first.")
    members = active_member_user_ids(partner_ids=[partner.pk])
    if not members.get(partner.pk):
        raise ValidationError({"partner": f"{partner.name} has no active portal users yet: invite one first."})
    share = SharedLead(lead=lead, partner=partner, shared_by=by, status=Status.OFFERED, note=note, offered_at=now,
                       respond_by=now + timedelta(days=settings.SHARED_LEAD_ACCEPT_DAYS))
    try:
        with transaction.atomic():
            share.save()
    except IntegrityError:  # another request shared it between our check and our insert (the constraint caught it)
        raise ValidationError("This lead was shared a moment ago: reload the page.") from None
    # The partner's people see the company and the note only until they accept (portal.lead_views says why): the
    # notification and the email must not give away the contact either.
    title = f"New lead for you: {locked.company or 'a prospect'}"
    link = _portal_link(share.pk)
    body = f"Accept or decline by {_when(share.respond_by)}."
    if note:
        body = f"{note}\n\n{body}"
    _notify(_partner_items(partner_id=partner.pk, event=Notification.Event.LEAD_SHARED, title=title, body=body,
                           link=link, key=f"share:{share.pk}", members=members))
    portal_events_record(items=[EventItem(partner_id=partner.pk, kind=PortalEvent.Kind.LEAD_SHARED, title=title,
                                          source_key=f"share:{share.pk}:offered", link=link, actor_id=by.pk)], at=now)
    return share


@transaction.atomic
def shared_lead_withdraw(*, share: SharedLead, by: User, now: datetime | None = None) -> bool:
    """Take an open share back (the rep changed their mind). Returns False when it was no longer open (a double
    submit, or the partner answered first). PermissionDenied when ``by`` may not see the lead."""
    if not leads_visible_to(by).filter(pk=share.lead_id).exists():
        raise PermissionDenied("not your lead")
    changed = SharedLead.objects.filter(pk=share.pk, status__in=SharedLead.OPEN).update(
        status=Status.WITHDRAWN, updated_at=now or timezone.now())
    if changed:
        share.refresh_from_db()
    return bool(changed)


# --- Partner: accept, decline, follow up ------------------------------------------------------------------------------


@transaction.atomic
def shared_lead_accept(*, share: SharedLead, member: Membership, now: datetime | None = None) -> SharedLead:
    """The partner takes the lead: it must follow up by now + ``SHARED_LEAD_FOLLOW_UP_DAYS``, and the lead becomes the
    partner's (``lead_update``). Refused when it is not on offer any more, past its deadline, or the lead was closed."""
    now = now or timezone.now()
    locked = _lock_for_member(share, member)
    if locked.status != Status.OFFERED:
        raise ValidationError(f"This lead is {locked.get_status_display().lower()}: it can't be accepted now.")
    if locked.respond_by <= now:
        raise ValidationError("The time to accept this lead has run out.")
    lead = Lead.objects.select_for_update().get(pk=locked.lead_id)
    if lead.stage not in Lead.OPEN_STAGES:
        raise ValidationError("This lead has been closed in the meantime: it can't be accepted.")
    locked.status = Status.ACCEPTED
    locked.responded_at = now
    locked.responded_by = member.user
    locked.follow_up_by = now + timedelta(days=settings.SHARED_LEAD_FOLLOW_UP_DAYS)
    locked.reminded = 0  # the next reminder is about the follow-up deadline
    locked.save(update_fields=["status", "responded_at", "responded_by", "follow_up_by", "reminded", "updated_at"])
    lead_update(lead=lead, by=member.user, partner=member.partner)  # leads.services owns the lead's row
    return _copy(share, locked)


@transaction.atomic
def shared_lead_decline(*, share: SharedLead, member: Membership, reason: str,
                        now: datetime | None = None) -> SharedLead:
    """The partner gives the offered lead back, saying why: the rep who shared it is notified (LEAD_RETURNED)."""
    now = now or timezone.now()
    reason = _clean_text(reason, field="reason", required="Say why you decline this lead.", limit=RESPONSE_MAX)
    locked = _lock_for_member(share, member)
    if locked.status != Status.OFFERED:
        raise ValidationError(f"This lead is {locked.get_status_display().lower()}: it can't be declined now.")
    locked.status = Status.DECLINED
    locked.responded_at = now
    locked.responded_by = member.user
    locked.response_note = reason
    locked.save(update_fields=["status", "responded_at", "responded_by", "response_note", "updated_at"])
    lead = Lead.objects.only("name", "company", "assigned_to_id").get(pk=locked.lead_id)
    _returned(rows=[_Returned(share_id=locked.pk, partner_id=locked.partner_id, partner_name=member.partner.name,
                              lead_id=lead.pk, lead_name=lead.name, lead_company=lead.company,
                              recipient_id=locked.shared_by_id or lead.assigned_to_id, why=f"declined: {reason}")],
              actor_id=member.user_id, now=now)
    return _copy(share, locked)


@transaction.atomic
def shared_lead_follow_up(*, share: SharedLead, member: Membership, note: str,
                          now: datetime | None = None) -> SharedLead:
    """The partner records what it did with the accepted lead (a note, required): the share is followed up."""
    now = now or timezone.now()
    note = _clean_text(note, field="note", required="Say what you did (a call, a meeting, an offer…).",
                       limit=RESPONSE_MAX)
    locked = _lock_for_member(share, member)
    if locked.status != Status.ACCEPTED:
        raise ValidationError(f"This lead is {locked.get_status_display().lower()}: there is no follow-up to record.")
    if locked.follow_up_by is not None and locked.follow_up_by <= now:
        raise ValidationError("The time to follow up on this lead has run out.")
    locked.status = Status.FOLLOWED_UP
    locked.followed_up_at = now
    locked.response_note = note
    locked.save(update_fields=["status", "followed_up_at", "response_note", "updated_at"])
    return _copy(share, locked)


# --- Returning a lead (decline, expiry) -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Returned:
    share_id: int
    partner_id: int
    partner_name: str
    lead_id: int
    lead_name: str
    lead_company: str
    recipient_id: int | None
    why: str


def _returned(*, rows: list[_Returned], actor_id: int | None, now: datetime) -> None:
    """Tell each returned lead's rep (LEAD_RETURNED) and record it in the partner's feed: two statements for any
    number of rows."""
    _notify([
        NotificationItem(
            recipient_id=row.recipient_id, event=Notification.Event.LEAD_RETURNED,
            title=f"Lead returned by {row.partner_name}: {_lead_label(row.lead_name, row.lead_company)}",
            body=f"{row.partner_name} {row.why}", link=_staff_link(row.lead_id),
            source_key=f"share:{row.share_id}:returned",
        )
        for row in rows if row.recipient_id
    ])
    portal_events_record(items=[
        EventItem(partner_id=row.partner_id, kind=PortalEvent.Kind.LEAD_RETURNED,
                  title=f"Lead returned to the vendor: {row.lead_company or row.lead_name}",
                  source_key=f"share:{row.share_id}:returned", link=_portal_link(row.share_id), actor_id=actor_id)
        for row in rows
    ], at=now)


# --- Beat: reminders and expiry ---------------------------------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@transaction.atomic
def shared_leads_remind(*, now: datetime | None = None) -> int:
    """Remind the partner's people of each open share whose deadline (``respond_by`` while offered, ``follow_up_by``
    once accepted) falls within ``SHARED_LEAD_REMIND_HOURS`` (not when the rep closed the lead meanwhile: nothing
    left to do for the partner; the expiry still closes the share): one conditional UPDATE … RETURNING claims them
    (``reminded`` 0 → 1), then one query for their people and one INSERT of notifications. Returns how many shares
    were reminded; a second run at the same time reminds none."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.SHARED_LEAD_REMIND_HOURS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {_table(SharedLead)} s SET reminded = 1, updated_at = %(now)s
                FROM {_table(Lead)} l
                WHERE l.id = s.lead_id AND s.reminded = 0 AND l.stage = ANY(%(open_stages)s)
                  AND ((s.status = %(offered)s AND s.respond_by > %(now)s AND s.respond_by <= %(horizon)s)
                    OR (s.status = %(accepted)s AND s.follow_up_by > %(now)s AND s.follow_up_by <= %(horizon)s))
                RETURNING s.id, s.partner_id, s.status, s.respond_by, s.follow_up_by, l.name, l.company""",  # noqa: S608
            {"now": now, "horizon": horizon, "offered": Status.OFFERED, "accepted": Status.ACCEPTED,
             "open_stages": list(Lead.OPEN_STAGES)},
        )
        claimed = cursor.fetchall()
    if not claimed:
        return 0
    members = active_member_user_ids(partner_ids=sorted({row[1] for row in claimed}))
    items = []
    for share_id, partner_id, status, respond_by, follow_up_by, name, company in claimed:
        if status == Status.OFFERED:
            # Before acceptance the partner sees the company only (portal.lead_views), so the reminder says no more.
            title = f"Accept or decline the lead {company or 'for you'} by {_when(respond_by)}"
        else:
            title = f"Follow up on {_lead_label(name, company)} by {_when(follow_up_by)}"
        items += _partner_items(partner_id=partner_id, event=Notification.Event.LEAD_REMINDER, title=title,
                                body="", link=_portal_link(share_id), key=f"share:{share_id}:{status}",
                                members=members)
    _notify(items)
    return len(claimed)


@transaction.atomic
def shared_leads_expire(*, now: datetime | None = None) -> int:
    """Close every open share past its deadline as expired (not answered by ``respond_by``, or not followed up by
    ``follow_up_by``): one UPDATE … RETURNING, then the returns (a LEAD_RETURNED notification to whoever shared it —
    or the lead's assignee — and a feed event), two more statements. Returns how many; a second run finds none."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {_table(SharedLead)} s SET status = %(expired)s, updated_at = %(now)s
                FROM {_table(Lead)} l, {_table(Partner)} p
                WHERE l.id = s.lead_id AND p.id = s.partner_id
                  AND ((s.status = %(offered)s AND s.respond_by <= %(now)s)
                    OR (s.status = %(accepted)s AND s.follow_up_by <= %(now)s))
                RETURNING s.id, s.partner_id, p.name, l.id, l.name, l.company, coalesce(s.shared_by_id,
                          l.assigned_to_id), s.follow_up_by IS NOT NULL""",  # noqa: S608
            {"now": now, "expired": Status.EXPIRED, "offered": Status.OFFERED, "accepted": Status.ACCEPTED},
        )
        claimed = cursor.fetchall()
    if not claimed:
        return 0
    _returned(rows=[
        _Returned(share_id=share_id, partner_id=partner_id, partner_name=partner_name, lead_id=lead_id,
                  lead_name=lead_name, lead_company=company, recipient_id=recipient_id,
                  why="did not follow up in time." if accepted else "did not answer in time.")
        for share_id, partner_id, partner_name, lead_id, lead_name, company, recipient_id, accepted in claimed
    ], actor_id=None, now=now)
    return len(claimed)
