"""Profile updates: a partner user proposes changes to the partner's description, contacts and locations; the
assigned rep (or a manager) approves them — applied through ``partners.services`` — or rejects them with a reason.
The only writer of ``ProfileUpdate``.

Decisions:
- What is proposed is stored as JSON (``ProfileUpdate.changes``): ``{"notes": str, "contacts": [...],
  "locations": [...]}``, each list the whole new list in the shape of ``partners.services
  .partner_save_contacts_and_locations`` (an ``id`` of an existing row of the partner, or None for a new one;
  coordinates as strings). Nothing touches the partner until approval; rows deleted or edited by staff meanwhile are
  handled by that service (an unknown id is a new row).
- One pending update per partner (the partial unique constraint ``profile_update_one_pending``): a second one is a
  ``ValidationError``, also when two submit at once (the constraint decides).
- Deciding claims the row with ``SELECT … FOR UPDATE`` and checks it is still pending, so two reviewers (or a double
  click) decide once. Approval applies everything in the same transaction, under the partner's row lock
  (``partners.services.partner_lock``): all or nothing.
- Every step records a ``PortalEvent`` (kind PROFILE, the partner's feed and "since your last visit") and creates
  notifications (event PROFILE_UPDATE; in-app and emailed by ``notifications``, retried there): submitted → the
  submitter and the assigned rep; approved/rejected → the submitter.
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from notifications.tasks import send_pending_emails
from partners.models import Partner
from partners.services import partner_lock, partner_save_contacts_and_locations, partner_update
from portal.events import EventItem, portal_events_record
from portal.models import PortalEvent, ProfileUpdate
from prm.tasks import enqueue_on_commit

User = AbstractBaseUser

NOTES_MAX = 5000  # characters of the description (the form refuses more)
REASON_MAX = ProfileUpdate._meta.get_field("reason").max_length
CONTACT_FIELDS = ("kind", "value", "label", "is_primary", "preferred_channel")
LOCATION_FIELDS = ("label", "address", "latitude", "longitude", "is_primary")
ALREADY_PENDING = "A proposed update is already waiting for approval: it must be decided before you propose another."
ALREADY_DECIDED = "This profile update has already been decided."
PORTAL_COMPANY = "/portal/company/"


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def changes_from_items(*, notes: str, contacts: list[dict], locations: list[dict]) -> dict:
    """The ``changes`` JSON of a proposal from the forms' items (``OnePrimaryFormSet.items()``)."""
    return {
        "notes": notes,
        "contacts": [{"id": item.get("id"), **{name: _json_value(item.get(name)) for name in CONTACT_FIELDS}}
                     for item in contacts],
        "locations": [{"id": item.get("id"), **{name: _json_value(item.get(name)) for name in LOCATION_FIELDS}}
                      for item in locations],
    }


def _label(user: User | None) -> str:
    if user is None:
        return "someone"
    return user.get_full_name() or user.get_username()


def _notify(items: list[NotificationItem]) -> None:
    if notifications_create(items=items):
        enqueue_on_commit(send_pending_emails)


@transaction.atomic
def profile_update_submit(*, partner: Partner, by: User, notes: str, contacts: list[dict],
                          locations: list[dict]) -> ProfileUpdate:
    """Propose changes to ``partner``'s description, contacts and locations (the whole new lists), waiting for the
    rep's approval. ValidationError when one is already waiting (or the description is too long)."""
    if len(notes) > NOTES_MAX:
        raise ValidationError({"notes": f"At most {NOTES_MAX} characters."})
    if ProfileUpdate.objects.filter(partner_id=partner.pk, status=ProfileUpdate.Status.PENDING).exists():
        raise ValidationError(ALREADY_PENDING)
    update = ProfileUpdate(partner_id=partner.pk, submitted_by=by,
                           changes=changes_from_items(notes=notes, contacts=contacts, locations=locations))
    try:
        with transaction.atomic():
            update.save()
    except IntegrityError as error:  # another proposal won the race (profile_update_one_pending)
        raise ValidationError(ALREADY_PENDING) from error
    portal_events_record(items=[EventItem(
        partner_id=partner.pk, kind=PortalEvent.Kind.PROFILE, title=f"{_label(by)} proposed a profile update",
        source_key=f"profile:{update.pk}:submitted", link=PORTAL_COMPANY, actor_id=by.pk,
    )])
    items = [NotificationItem(
        recipient_id=by.pk, event=Notification.Event.PROFILE_UPDATE,
        title=f"Profile update of {partner.name} received: waiting for approval",
        body=("Thank you. Your proposed changes to the description, contacts and locations were sent to your "
              "account manager. You will get an email when they are approved or rejected; until then the profile "
              "shows the current details."),
        link=PORTAL_COMPANY, source_key=f"profile:{update.pk}:submitted",
    )]
    if partner.assigned_to_id is not None and partner.assigned_to_id != by.pk:
        items.append(NotificationItem(
            recipient_id=partner.assigned_to_id, event=Notification.Event.PROFILE_UPDATE,
            title=f"{partner.name}: profile update to review",
            body=f"{_label(by)} proposed changes to the partner's description, contacts and locations.",
            link=reverse("profile_updates:detail", args=[update.pk]), source_key=f"profile:{update.pk}:review",
        ))
    _notify(items)
    return update


def _claim(update: ProfileUpdate) -> ProfileUpdate:
    """The update's row, locked, still pending; else ValidationError."""
    locked = ProfileUpdate.objects.select_for_update().filter(pk=update.pk).first()
    if locked is None or locked.status != ProfileUpdate.Status.PENDING:
        raise ValidationError(ALREADY_DECIDED)
    return locked


@transaction.atomic
def profile_update_approve(*, update: ProfileUpdate, by: User) -> ProfileUpdate:
    """Apply ``update`` to its partner (``partners.services``: description, contacts, locations) and mark it
    approved, in one transaction; the submitter is told. ValidationError when it was decided already or a proposed
    row is invalid now (nothing applied)."""
    update = _claim(update)
    changes = update.changes or {}
    partner = partner_lock(partner_id=update.partner_id)
    try:
        with transaction.atomic():
            if "notes" in changes:
                partner_update(partner=partner, by=by, notes=str(changes["notes"] or ""))
            partner_save_contacts_and_locations(
                partner=partner, contacts=changes.get("contacts"), locations=changes.get("locations"))
    except IntegrityError as error:
        raise ValidationError("The proposed contacts or locations conflict with the partner's current ones "
                              "(two primaries, or two preferred messengers). Reject it with a reason.") from error
    return _decide(update, partner, by=by, status=ProfileUpdate.Status.APPROVED, reason="")


@transaction.atomic
def profile_update_reject(*, update: ProfileUpdate, by: User, reason: str) -> ProfileUpdate:
    """Reject ``update`` with ``reason`` (required, shown to the partner); nothing of it is applied."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why, for the partner."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"At most {REASON_MAX} characters."})
    update = _claim(update)
    partner = Partner.objects.only("name").get(pk=update.partner_id)
    return _decide(update, partner, by=by, status=ProfileUpdate.Status.REJECTED, reason=reason)


def _decide(update: ProfileUpdate, partner: Partner, *, by: User, status: str, reason: str) -> ProfileUpdate:
    update.status, update.reason, update.decided_by, update.decided_at = status, reason, by, timezone.now()
    update.full_clean(exclude=["changes"])  # an empty proposal ({}) is valid: it changes nothing
    update.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    approved = status == ProfileUpdate.Status.APPROVED
    verb = "approved" if approved else "rejected"
    portal_events_record(items=[EventItem(
        partner_id=update.partner_id, kind=PortalEvent.Kind.PROFILE,
        title="Profile update approved: the company profile is updated" if approved
        else f"Profile update rejected: {reason}",
        source_key=f"profile:{update.pk}:{verb}", link=PORTAL_COMPANY, actor_id=by.pk,
    )])
    if update.submitted_by_id is not None:
        _notify([NotificationItem(
            recipient_id=update.submitted_by_id, event=Notification.Event.PROFILE_UPDATE,
            title=f"Profile update of {partner.name} {verb}",
            body=("Your proposed changes are now part of the company profile." if approved
                  else f"Your proposed changes were not applied. Reason: {reason}"),
            link=PORTAL_COMPANY, source_key=f"profile:{update.pk}:{verb}",
        )])
    return update
