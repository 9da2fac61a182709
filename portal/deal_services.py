"""Deal registration: the only code that writes DealRegistration and DealEvent.

The life of a registration: a partner user saves a draft and submits it (a confirmation email with its number, the
review time and the next steps; the conflict check runs); the partner's rep — or a manager when the partner has no
active rep — approves it (the lead is created, source: this partner, and the deal is protected for the tier's days),
rejects it or returns it for more information, always with a reason; the partner may ask once for an extension of the
protection, which the rep grants or refuses; the partner keeps the stage up to date and reports the deal won (the
vendor confirms: the lead is converted, so revenue follows) or lost (the lead is lost). Beat reminds reviewers of
registrations waiting too long, warns partners 14 and 3 days before the protection ends, and closes expired ones.

Decisions:
- Every step is a DealEvent row (the history both sides see), a PortalEvent (the partner's feed) where the partner
  should hear of it, and notifications (emailed, with retries: notifications.services) to whoever must act or know:
  the reviewer on a submit, the submitting user and the partner admins on a decision.
- Status changes are claims: a conditional UPDATE (… WHERE status = 'submitted') that changes one row or none, so a
  double click, a resent POST or two reviewers deciding at once do the step once; the loser gets a ValidationError
  (or, for the partner's own double submit, the registration as it is). A new registration carries the random token
  of the form that made it (``form_token``, unique): the same form posted twice is one registration.
- What the partner sees holds nothing of other partners: the conflicts are recomputed on the reviewer's page, never
  stored; the submitter is told only "a registration for this company already exists" when the rule of
  ``portal.conflicts.shows_existing_notice`` says so.
- The beat's work is set-based: one ``UPDATE … RETURNING`` claim per job (and per notice window), then one INSERT of
  events, one of feed rows and one of notifications, so running twice (or two beats) does nothing new.
- Every change is an outbox event: deal.submitted, deal.decided, and deal.updated for all the others (webhooks and
  the CRM push, issue 17). The CAM may also decide, close or move a deal in the CRM: ``deals_sync_apply`` (called by
  integrations.deals) runs the same steps (``_decide``, ``_confirm_won``, ``_lost``) with no PRM user, under the
  same rules; a step they do not allow is refused, not forced.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from leads.services import lead_convert, lead_create, lead_lose
from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from notifications.tasks import send_pending_emails
from outbox.services import EventSpec, event_emit, events_emit
from partners.models import Partner
from partners.roles import MANAGER
from partners.selectors import user_sees_all_partners
from portal.conflicts import Conflict, find_conflicts, shows_existing_notice
from portal.domains import email_domain, normalise_domain, reversed_domain
from portal.events import EventItem, portal_events_record
from portal.models import DealEvent, DealProtection, DealRegistration, Membership, PortalEvent
from prm.tasks import enqueue_on_commit

User = AbstractBaseUser
Status = DealRegistration.Status

# What the partner fills in (the form's fields; everything else is the workflow's).
DRAFT_FIELDS = ("company", "domain", "contact_name", "contact_email", "contact_phone", "country", "amount",
                "currency", "expected_close", "notes")
# Needed to submit (a draft may be saved with only the company).
REQUIRED_TO_SUBMIT = {
    "company": "Enter the prospect's company.",
    "domain": "Enter the prospect's web domain (or a contact email at the company).",
    "contact_name": "Enter who you talk to at the prospect.",
    "amount": "Enter the estimated amount.",
    "expected_close": "Enter when you expect to close.",
}
NOTES_MAX = 5000
REASON_MAX = DealRegistration._meta.get_field("decision_reason").max_length  # 1000
LOST_REASON_MAX = Lead._meta.get_field("lost_reason").max_length  # the lead keeps it: 300
EXTENSION_DAYS_DEFAULT = DealProtection._meta.get_field("extension_days").default
EXPIRY_NOTICES = (3, 14)  # days before the protection ends; the nearer first (see deals_notify_expiring)
DECISIONS = {"approve": Status.APPROVED, "reject": Status.REJECTED, "return": Status.RETURNED}
# A registration as webhook receivers see it (no contact person's details, no notes).
_PAYLOAD_FIELDS = ("id", "number", "partner_id", "status", "stage", "company", "domain", "country", "amount",
                   "currency", "expected_close", "reviewer_id", "submitted_at", "decided_at", "decided_by_id",
                   "decision_reason", "lead_id", "protection_expires_at")


def _payload(registration: DealRegistration) -> dict:
    return {name: getattr(registration, name) for name in _PAYLOAD_FIELDS}


def _emit(topic: str, registration: DealRegistration) -> None:
    """deal.submitted / deal.decided / deal.updated, in the caller's transaction (outbox, issue 16). deal.updated is
    every other change of a registration (stage, extension, win or loss reported / confirmed / refused, expiry, a
    change pulled from the CRM), so webhooks and the CRM push see each one."""
    event_emit(topic=topic, subject_type="deal", subject_id=registration.pk, payload=_payload(registration))


# --- Links and people ---------------------------------------------------------------------------------------------


def portal_link(pk: int) -> str:
    return reverse("portal:deal_detail", args=[pk])


def staff_link(pk: int) -> str:
    return reverse("deals:detail", args=[pk])


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _manager_ids() -> list[int]:
    """Active managers (the Manager group): who reviews when a partner has no active rep."""
    return list(get_user_model().objects.filter(is_active=True, groups__name=MANAGER).values_list("pk", flat=True)
                .distinct().order_by("pk"))


def _partner_people(pairs: list[tuple[int, int | None]]) -> dict:
    """For ``pairs`` of (partner id, submitting user id): {"admins": {partner id: [user ids]}, "members": {partner id:
    {user ids}}} of the partners' active admins and those submitting users still active members of that partner
    (``_recipients_for`` picks one registration's). One query for any number of partners."""
    partner_ids = sorted({partner_id for partner_id, _ in pairs})
    creators = {user_id for _, user_id in pairs if user_id}
    rows = (Membership.objects.filter(partner_id__in=partner_ids, is_active=True, user__is_active=True)
            .filter(Q(role=Membership.Role.ADMIN) | Q(user_id__in=creators))
            .values_list("partner_id", "user_id", "role"))
    admins: dict[int, list[int]] = {}
    members: dict[int, set[int]] = {}
    for partner_id, user_id, role in rows:
        members.setdefault(partner_id, set()).add(user_id)
        if role == Membership.Role.ADMIN:
            admins.setdefault(partner_id, []).append(user_id)
    return {"admins": admins, "members": members}


def _recipients_for(people: dict, partner_id: int, creator_id: int | None) -> list[int]:
    found = [creator_id] if creator_id and creator_id in people["members"].get(partner_id, set()) else []
    return list(dict.fromkeys([*found, *sorted(people["admins"].get(partner_id, []))]))


def protection_for(partner: Partner) -> tuple[int, int]:
    """(days, extension days) of an approved registration of ``partner``: its tier's DealProtection, else
    ``settings.DEAL_PROTECTION_DAYS`` and the model's default extension."""
    row = DealProtection.objects.filter(tier_id=partner.tier_id).values_list("days", "extension_days").first()
    return row if row else (settings.DEAL_PROTECTION_DAYS, EXTENSION_DAYS_DEFAULT)


def may_decide(*, user: User, partner: Partner) -> bool:
    """The partner's rep or a manager decides its registrations."""
    return bool(user.is_authenticated and user.is_active
                and (partner.assigned_to_id == user.pk or user_sees_all_partners(user)))


def _check_decider(user: User, partner: Partner) -> None:
    if not may_decide(user=user, partner=partner):
        raise PermissionDenied("Only the partner's rep or a manager decides its registrations.")


def _reason(text: str, *, required: bool, limit: int = REASON_MAX, what: str = "reason") -> str:
    text = " ".join((text or "").split())
    if required and not text:
        raise ValidationError({what: "Give a reason: the partner reads it."})
    if len(text) > limit:
        raise ValidationError({what: f"Keep it to {limit} characters (it has {len(text)})."})
    return text


def _event(registration: DealRegistration, *, status: str, by_id: int | None, note: str = "",
           at: datetime | None = None) -> DealEvent:
    return DealEvent.objects.create(registration=registration, status=status, note=note[:REASON_MAX], by_id=by_id,
                                    at=at or timezone.now())


def _feed(registration: DealRegistration, *, kind: str, title: str, key: str, actor_id: int | None) -> None:
    portal_events_record(items=[EventItem(
        partner_id=registration.partner_id, kind=kind, title=title, source_key=key,
        link=portal_link(registration.pk), actor_id=actor_id,
    )])


def _notify(items: list[NotificationItem]) -> int:
    created = notifications_create(items=items)
    if created:
        enqueue_on_commit(send_pending_emails)
    return created


def _notify_partner(registration: DealRegistration, *, title: str, body: str, key: str,
                    event: str = Notification.Event.DEAL_DECIDED) -> int:
    people = _partner_people([(registration.partner_id, registration.created_by_id)])
    return _notify([
        NotificationItem(recipient_id=user_id, event=event, title=title, body=body,
                         link=portal_link(registration.pk), source_key=key)
        for user_id in _recipients_for(people, registration.partner_id, registration.created_by_id)
    ])


def _notify_staff(registration: DealRegistration, *, title: str, body: str, key: str,
                  event: str = Notification.Event.DEAL_REMINDER) -> int:
    """The registration's reviewer, else the partner's rep, else the managers."""
    partner = registration.partner
    if registration.reviewer_id and registration.reviewer.is_active:
        recipients = [registration.reviewer_id]
    elif partner.assigned_to_id and partner.assigned_to.is_active:
        recipients = [partner.assigned_to_id]
    else:
        recipients = _manager_ids()
    return _notify([
        NotificationItem(recipient_id=user_id, event=event, title=title, body=body,
                         link=staff_link(registration.pk), source_key=key)
        for user_id in recipients
    ])


def _locked(registration: DealRegistration) -> DealRegistration:
    return (DealRegistration.objects.select_for_update(of=("self",))
            .select_related("partner__tier", "partner__assigned_to").get(pk=registration.pk))


def _reload(pk: int) -> DealRegistration:
    return DealRegistration.objects.select_related("partner__tier", "partner__assigned_to", "reviewer").get(pk=pk)


# --- The partner's side ------------------------------------------------------------------------------------------


def _clean_fields(fields: dict) -> dict:
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected registration fields: {sorted(unknown)}")
    cleaned = dict(fields)
    errors = {}
    for name in ("company", "contact_name", "contact_email", "contact_phone", "notes"):
        if name in cleaned:
            value = cleaned[name] or ""
            cleaned[name] = value.strip() if name == "notes" else " ".join(value.split())
    if "contact_email" in cleaned:
        cleaned["contact_email"] = cleaned["contact_email"].lower()
    if "domain" in cleaned:
        raw = (cleaned["domain"] or "").strip()
        try:
            cleaned["domain"] = normalise_domain(raw) if raw else ""
        except ValueError as error:
            errors["domain"] = str(error)
    if "country" in cleaned:
        country = (cleaned["country"] or "").strip().upper()
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            errors["country"] = "Use the two-letter country code, e.g. DE."
        cleaned["country"] = country
    if "currency" in cleaned:
        currency = (cleaned["currency"] or "").strip().upper() or "EUR"
        if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            errors["currency"] = "Use the three-letter currency code, e.g. EUR."
        cleaned["currency"] = currency
    if cleaned.get("amount") is not None and cleaned["amount"] < 0:
        errors["amount"] = "The amount can't be negative."
    if len(cleaned.get("notes") or "") > NOTES_MAX:
        errors["notes"] = f"Keep the notes to {NOTES_MAX} characters (they have {len(cleaned['notes'])})."
    if errors:
        raise ValidationError(errors)
    return cleaned


def _apply(registration: DealRegistration, fields: dict) -> list[str]:
    changed = [name for name, value in fields.items() if getattr(registration, name) != value]
    for name in changed:
        setattr(registration, name, fields[name])
    if not registration.domain and "contact_email" in changed:  # no domain given: the contact's company's
        registration.domain = email_domain(registration.contact_email)
        changed.append("domain")
    registration.domain_reversed = reversed_domain(registration.domain) if registration.domain else ""
    registration.full_clean(validate_unique=False, validate_constraints=False)
    return changed


@transaction.atomic
def deal_save(*, member: Membership, registration: DealRegistration | None = None, form_token: str = "",
              **fields: object) -> DealRegistration:
    """Create (``registration`` None) or change a draft of ``member``'s partner.

    A new one carries ``form_token`` (the form's hidden random token): posting the same form again changes the
    draft it made (or, once submitted, returns it unchanged). Only a draft or a registration returned for more
    information can change."""
    fields = _clean_fields(fields)
    if registration is None and form_token:
        existing = DealRegistration.objects.filter(form_token=form_token).first()
        if existing is not None:  # the same form again: a double click, or a retry after a refused submit
            if existing.partner_id != member.partner_id:
                raise ValidationError("This form has expired: reload the page.")
            if existing.status not in (Status.DRAFT, Status.RETURNED):
                return existing
            registration = existing
    if registration is None:
        registration = DealRegistration(partner_id=member.partner_id, created_by_id=member.user_id,
                                        form_token=form_token or None, status=Status.DRAFT)
        _apply(registration, fields)
        try:
            with transaction.atomic():
                registration.save()
        except IntegrityError:  # the same form, posted twice at once: the other request made it
            if not form_token:
                raise
            return DealRegistration.objects.get(form_token=form_token, partner_id=member.partner_id)
        _event(registration, status=Status.DRAFT, by_id=member.user_id, note="Draft saved.")
        return registration
    locked = _locked(registration)
    if locked.partner_id != member.partner_id:
        raise PermissionDenied("another partner's registration")
    if locked.status not in (Status.DRAFT, Status.RETURNED):
        raise ValidationError(f"This registration is {locked.get_status_display().lower()}: it can't be changed.")
    changed = _apply(locked, fields)
    if changed:
        locked.save(update_fields=[*set(changed), "domain_reversed", "updated_at"])
    return locked


@dataclass
class SubmitResult:
    registration: DealRegistration
    conflicts: list[Conflict] = field(default_factory=list)  # for staff only: never shown to the partner
    existing_notice: bool = False  # "a registration for this company already exists" (the rule, portal.conflicts)
    repeated: bool = False  # it was submitted already (a double submit): nothing new happened


def _missing(registration: DealRegistration) -> dict:
    return {name: message for name, message in REQUIRED_TO_SUBMIT.items()
            if getattr(registration, name) in (None, "")}


def confirmation_body(registration: DealRegistration, *, existing_notice: bool, days: int) -> str:
    """The submitter's confirmation: the registration number, how long the review takes, the next steps."""
    lines = [
        f"Registration number: {registration.number}",
        f"Prospect: {registration.company}" + (f" ({registration.domain})" if registration.domain else ""),
        "",
        f"Review: your channel account manager decides within {settings.DEAL_REVIEW_DAYS} business days. "
        "They may return it to you for more information: you will get an email.",
        f"Next steps: once approved, the deal is registered to {registration.partner.name} as a lead and protected "
        f"for {days} days (one extension may be asked for). Keep its stage up to date in the portal and report it "
        "won or lost there.",
    ]
    if existing_notice:
        lines += ["", "Note: a registration for this company already exists. Your channel account manager will "
                      "check which one holds the deal."]
    return "\n".join(lines)


@transaction.atomic
def deal_submit(*, registration: DealRegistration, member: Membership) -> SubmitResult:
    """Submit a draft (or a registration returned for more information) for review; see the module's decisions.
    A registration submitted already is returned as it is (``repeated``): a double submit is one submission."""
    if registration.partner_id != member.partner_id:
        raise PermissionDenied("another partner's registration")
    current = _reload(registration.pk)
    if current.status == Status.SUBMITTED:
        return SubmitResult(current, repeated=True)
    missing = _missing(current)
    if missing:
        raise ValidationError(missing)
    partner = current.partner
    rep = partner.assigned_to if partner.assigned_to_id and partner.assigned_to.is_active else None
    now = timezone.now()
    resubmit = current.status == Status.RETURNED
    claimed = DealRegistration.objects.filter(pk=current.pk, status__in=[Status.DRAFT, Status.RETURNED]).update(
        status=Status.SUBMITTED, submitted_at=now, reviewer=rep, review_reminded_at=None, updated_at=now,
    )
    current = _reload(current.pk)
    if not claimed:
        if current.status == Status.SUBMITTED:
            return SubmitResult(current, repeated=True)
        raise ValidationError(f"This registration is {current.get_status_display().lower()}: it can't be submitted.")
    conflicts = find_conflicts(company=current.company, domain=current.domain, exclude_partner_id=current.partner_id,
                               exclude_registration_id=current.pk)
    notice = shows_existing_notice(conflicts)
    by = member.user
    event = _event(current, status=Status.SUBMITTED, by_id=by.pk, at=now,
                   note="Resubmitted with more information." if resubmit else "Submitted for review.")
    _feed(current, kind=PortalEvent.Kind.DEAL_SUBMITTED, key=f"deal:{current.pk}:event:{event.pk}", actor_id=by.pk,
          title=f"{current.number} {current.company}: registered by {_name(by)}")
    days, _extension = protection_for(partner)
    confirmation = NotificationItem(
        recipient_id=by.pk, event=Notification.Event.DEAL_SUBMITTED, link=portal_link(current.pk),
        title=f"Deal registration {current.number} received: {current.company}",
        body=confirmation_body(current, existing_notice=notice, days=days),
        source_key=f"deal:{current.pk}:submitted:{event.pk}",
    )
    reviewers = [rep.pk] if rep else _manager_ids()
    review_body = (f"{partner.name} registered {current.company}"
                   + (f" ({current.domain})" if current.domain else "")
                   + (f", {current.amount} {current.currency}" if current.amount is not None else "") + ". "
                   + (f"{len(conflicts)} possible conflict{'s' if len(conflicts) != 1 else ''} to check."
                      if conflicts else "No conflicts found."))
    _notify([confirmation, *[
        NotificationItem(recipient_id=user_id, event=Notification.Event.DEAL_SUBMITTED, link=staff_link(current.pk),
                         title=f"Deal registration to review: {current.number} {current.company} ({partner.name})",
                         body=review_body, source_key=f"deal:{current.pk}:review:{event.pk}")
        for user_id in reviewers if user_id != by.pk
    ]])
    _emit("deal.submitted", current)
    return SubmitResult(current, conflicts, notice)


def _partner_claim(registration: DealRegistration, member: Membership, *, statuses, where: dict | None = None,
                   **changes) -> DealRegistration:
    """Claim a partner's step: the registration moves only if it belongs to ``member``'s partner, is in ``statuses``
    and matches ``where``; else ValidationError saying what it is."""
    if registration.partner_id != member.partner_id:
        raise PermissionDenied("another partner's registration")
    claimed = DealRegistration.objects.filter(pk=registration.pk, partner_id=member.partner_id,
                                              status__in=list(statuses), **(where or {})
                                              ).update(**changes, updated_at=timezone.now())
    current = _reload(registration.pk)
    if not claimed:
        if where and current.status in statuses:
            raise ValidationError("You have already asked for an extension of this registration.")
        raise ValidationError(f"This registration is {current.get_status_display().lower()}: that step is not "
                              "open any more.")
    return current


@transaction.atomic
def deal_stage_set(*, registration: DealRegistration, member: Membership, stage: str) -> bool:
    """The partner moves an approved deal to another stage (qualifying, proposal, negotiation). Returns whether it
    changed (the stage it is at already changes nothing)."""
    if stage not in DealRegistration.Stage.values:
        raise ValidationError({"stage": "Choose a stage."})
    if registration.partner_id == member.partner_id and registration.stage == stage:
        current = _reload(registration.pk)
        if current.stage == stage:
            return False
    current = _partner_claim(registration, member, statuses=[Status.APPROVED], stage=stage)
    _event(current, status=current.status, by_id=member.user_id, note=f"Stage: {current.get_stage_display()}.")
    _emit("deal.updated", current)
    return True


@transaction.atomic
def deal_extension_request(*, registration: DealRegistration, member: Membership, note: str = "") -> DealRegistration:
    """The partner asks, once, for more protection time; the reviewer (else the rep, else managers) is told."""
    note = _reason(note, required=False, what="note")
    if registration.partner_id == member.partner_id and registration.extension_requested_at is not None:
        raise ValidationError("You have already asked for an extension of this registration.")
    current = _partner_claim(registration, member, statuses=[Status.APPROVED],
                             where={"extension_requested_at__isnull": True}, extension_requested_at=timezone.now())
    event = _event(current, status=current.status, by_id=member.user_id,
                   note="Extension requested." + (f" {note}" if note else ""))
    _notify_staff(current, key=f"deal:{current.pk}:extension:{event.pk}",
                  title=f"Extension requested: {current.number} {current.company} ({current.partner.name})",
                  body=note or "The partner asks for more time on this deal's protection.")
    _emit("deal.updated", current)
    return current


@transaction.atomic
def deal_report_won(*, registration: DealRegistration, member: Membership, note: str = "") -> DealRegistration:
    """The partner reports the deal won: it waits for the vendor's confirmation (``deal_confirm_won``)."""
    note = _reason(note, required=False, what="note")
    current = _partner_claim(registration, member, statuses=[Status.APPROVED], status=Status.WON_PENDING)
    event = _event(current, status=Status.WON_PENDING, by_id=member.user_id,
                   note="Reported won." + (f" {note}" if note else ""))
    _notify_staff(current, key=f"deal:{current.pk}:won:{event.pk}",
                  title=f"Won, to confirm: {current.number} {current.company} ({current.partner.name})",
                  body=note or "The partner reports this deal won. Confirm it to convert the lead.")
    _emit("deal.updated", current)
    return current


@transaction.atomic
def deal_report_lost(*, registration: DealRegistration, member: Membership, reason: str) -> DealRegistration:
    """The partner reports the deal lost (why: required, as the lead keeps it); its lead is lost too."""
    reason = _reason(reason, required=True, limit=LOST_REASON_MAX)
    current = _partner_claim(registration, member, statuses=[Status.APPROVED, Status.WON_PENDING], status=Status.LOST)
    event = _lost(current, by=member.user, reason=reason)
    _notify_staff(current, key=f"deal:{current.pk}:lost:{event.pk}",
                  title=f"Lost: {current.number} {current.company} ({current.partner.name})", body=reason)
    _emit("deal.updated", current)
    return current


def _lost(current: DealRegistration, *, by: User | None, reason: str, note: str = "") -> DealEvent:
    """After the claim to lost: its open lead is lost too (``reason``), and the history row."""
    if current.lead_id and current.lead.stage in Lead.OPEN_STAGES:
        lead_lose(lead=current.lead, by=by, reason=reason)
    return _event(current, status=Status.LOST, by_id=by.pk if by else None, note=note or reason)


# --- The vendor's side -------------------------------------------------------------------------------------------


@transaction.atomic
def deal_decide(*, registration: DealRegistration, by: User, decision: str, reason: str) -> DealRegistration:
    """Approve, reject or return a submitted registration, with a reason (required). Only the partner's rep or a
    manager (PermissionDenied otherwise). Approval creates the lead (partner: this partner; expected value: the
    amount) and starts the protection. A registration decided already is a ValidationError (nothing written)."""
    if decision not in DECISIONS:
        raise ValidationError({"decision": "Choose approve, reject or return."})
    partner = Partner.objects.select_related("tier", "assigned_to").get(pk=registration.partner_id)
    _check_decider(by, partner)
    return _decide(registration.pk, partner=partner, by=by, status=DECISIONS[decision],
                   reason=_reason(reason, required=True))


def _decide(pk: int, *, partner: Partner, by: User | None, status: str, reason: str, via: str = ""
            ) -> DealRegistration:
    """deal_decide's work, shared with a decision pulled from the CRM (``by`` None, ``via`` "Salesforce": the name
    shown as the decider): the claim (… WHERE status = 'submitted'), the lead and protection on approval, the history
    row, the partner's feed and people, deal.decided."""
    now = timezone.now()
    claimed = DealRegistration.objects.filter(pk=pk, status=Status.SUBMITTED).update(
        status=status, decided_at=now, decided_by=by, decision_reason=reason, updated_at=now,
    )
    current = _reload(pk)
    if not claimed:
        raise ValidationError(f"This registration is {current.get_status_display().lower()}: it is not waiting for "
                              "a decision.")
    if status == Status.APPROVED:
        days, _extension = protection_for(partner)
        lead = lead_create(
            by=by, name=f"{current.company} ({current.number})"[:200], company=current.company,
            email=current.contact_email, phone=current.contact_phone, partner=partner,
            assigned_to=partner.assigned_to if partner.assigned_to_id and partner.assigned_to.is_active else by,
            expected_value=current.amount, created_at=now,
        )
        current.lead = lead
        current.protection_expires_at = now + timedelta(days=days)
        current.expiry_notice = 0
        current.save(update_fields=["lead", "protection_expires_at", "expiry_notice", "updated_at"])
    who = _name(by) or via
    event = _event(current, status=status, by_id=by.pk if by else None, note=reason if by else f"{via}: {reason}",
                   at=now)
    label = {Status.APPROVED: "approved", Status.REJECTED: "rejected",
             Status.RETURNED: "returned for more information"}[status]
    title = f"Deal registration {current.number} {label}: {current.company}"
    body = f"{who}: {reason}"
    if status == Status.APPROVED:
        body += (f"\n\nThe deal is protected until {timezone.localdate(current.protection_expires_at).isoformat()}. "
                 "Keep its stage up to date in the portal and report it won or lost there.")
    elif status == Status.RETURNED:
        body += "\n\nEdit the registration in the portal and submit it again."
    _feed(current, kind=PortalEvent.Kind.DEAL_DECIDED, title=title, key=f"deal:{current.pk}:event:{event.pk}",
          actor_id=by.pk if by else None)
    _notify_partner(current, title=title, body=body, key=f"deal:{current.pk}:decided:{event.pk}")
    _emit("deal.decided", current)
    return current


@transaction.atomic
def deal_extension_decide(*, registration: DealRegistration, by: User, grant: bool, reason: str = ""
                          ) -> DealRegistration:
    """Grant (+ the tier's extension days) or refuse (reason required) the partner's extension request."""
    partner = Partner.objects.select_related("tier").get(pk=registration.partner_id)
    _check_decider(by, partner)
    reason = _reason(reason, required=not grant)
    now = timezone.now()
    pending = DealRegistration.objects.filter(
        pk=registration.pk, status=Status.APPROVED, extension_requested_at__isnull=False,
        extension_granted_at__isnull=True, extension_refused_at__isnull=True,
    )
    if grant:
        _days, extension = protection_for(partner)
        claimed = pending.update(extension_granted_at=now, expiry_notice=0, updated_at=now,
                                 protection_expires_at=F("protection_expires_at") + timedelta(days=extension))
    else:
        claimed = pending.update(extension_refused_at=now, updated_at=now)
    current = _reload(registration.pk)
    if not claimed:
        raise ValidationError("There is no extension request waiting on this registration.")
    note = ("Extension granted" if grant else "Extension refused") + (f": {reason}" if reason else ".")
    event = _event(current, status=current.status, by_id=by.pk, note=note, at=now)
    title = f"Extension {'granted' if grant else 'refused'}: {current.number} {current.company}"
    body = note
    if grant:
        body += f"\n\nProtected until {timezone.localdate(current.protection_expires_at).isoformat()}."
    _feed(current, kind=PortalEvent.Kind.DEAL_DECIDED, title=title, key=f"deal:{current.pk}:event:{event.pk}",
          actor_id=by.pk)
    _notify_partner(current, title=title, body=body, key=f"deal:{current.pk}:extension:{event.pk}")
    _emit("deal.updated", current)
    return current


@transaction.atomic
def deal_confirm_won(*, registration: DealRegistration, by: User, value: Decimal | None = None) -> DealRegistration:
    """The vendor confirms a deal the partner reported won: the registration is won and its lead converted (booking
    ``value``, default the registration's amount) — so the customer exists and the revenue counts."""
    partner = Partner.objects.select_related("assigned_to").get(pk=registration.partner_id)
    _check_decider(by, partner)
    return _confirm_won(registration.pk, by=by, value=value, statuses=[Status.WON_PENDING])


def _confirm_won(pk: int, *, by: User | None, value: Decimal | None = None, statuses: list[str], via: str = ""
                 ) -> DealRegistration:
    """deal_confirm_won's work, shared with a win pulled from the CRM (``by`` None, ``via`` "Salesforce"; from
    approved too: the vendor closed it won in the CRM): the claim, the lead converted, history, feed, partner told."""
    now = timezone.now()
    claimed = DealRegistration.objects.filter(pk=pk, status__in=statuses).update(
        status=Status.WON, decided_at=now, decided_by=by, updated_at=now,
    )
    current = _reload(pk)
    if not claimed:
        raise ValidationError(f"This registration is {current.get_status_display().lower()}: there is no win to "
                              "confirm.")
    if current.lead_id:
        lead = current.lead
        if lead.stage == Lead.Stage.LOST:
            raise ValidationError("Its lead was marked lost: reopen the lead first.")
        if lead.stage != Lead.Stage.WON:
            lead_convert(lead=lead, by=by, value=value if value is not None else current.amount, when=now)
    event = _event(current, status=Status.WON, by_id=by.pk if by else None, at=now,
                   note="Win confirmed." if by else f"Win confirmed in {via}.")
    title = f"Deal won: {current.number} {current.company}"
    _feed(current, kind=PortalEvent.Kind.DEAL_DECIDED, title=title, key=f"deal:{current.pk}:event:{event.pk}",
          actor_id=by.pk if by else None)
    _notify_partner(current, title=title, body=f"{_name(by) or via} confirmed the win. Well done!",
                    key=f"deal:{current.pk}:won:{event.pk}")
    _emit("deal.updated", current)
    return current


@transaction.atomic
def deal_refuse_won(*, registration: DealRegistration, by: User, reason: str) -> DealRegistration:
    """The vendor does not confirm the reported win (reason required): the deal is approved again."""
    partner = Partner.objects.select_related("assigned_to").get(pk=registration.partner_id)
    _check_decider(by, partner)
    reason = _reason(reason, required=True)
    claimed = DealRegistration.objects.filter(pk=registration.pk, status=Status.WON_PENDING).update(
        status=Status.APPROVED, updated_at=timezone.now())
    current = _reload(registration.pk)
    if not claimed:
        raise ValidationError("There is no reported win waiting on this registration.")
    event = _event(current, status=Status.APPROVED, by_id=by.pk, note=f"Win not confirmed: {reason}")
    title = f"Win not confirmed: {current.number} {current.company}"
    _feed(current, kind=PortalEvent.Kind.DEAL_DECIDED, title=title, key=f"deal:{current.pk}:event:{event.pk}",
          actor_id=by.pk)
    _notify_partner(current, title=title, body=f"{_name(by)}: {reason}", key=f"deal:{current.pk}:won-refused:{event.pk}")
    _emit("deal.updated", current)
    return current


# --- The CRM's side: changes pulled from the CRM (integrations.deals) -------------------------------------------------

# The status steps a CRM user may take, and the statuses each is taken from (PRM's rules, as the vendor's own steps).
SYNC_STEPS = {
    Status.APPROVED: (Status.SUBMITTED,), Status.REJECTED: (Status.SUBMITTED,), Status.RETURNED: (Status.SUBMITTED,),
    Status.WON: (Status.APPROVED, Status.WON_PENDING), Status.LOST: (Status.APPROVED, Status.WON_PENDING),
}
SYNC_FIELDS = ("stage", "amount", "expected_close", "notes")


@dataclass(frozen=True)
class DealSyncChange:
    """What a CRM record asks of one registration: ``steps``, status changes in order (a decision, then maybe a close:
    (approved, won) when both came at once), ``reason`` (the decision's or the loss's, see ``crm_reason``) and new
    values of SYNC_FIELDS."""

    registration_id: int
    steps: tuple[str, ...] = ()
    reason: str = ""
    fields: dict = field(default_factory=dict)


def crm_reason(text: str | None, *, default: str) -> str:
    """A reason as it is stored: whitespace collapsed, cut to the column, ``default`` when blank."""
    return (" ".join((text or "").split()) or default)[:REASON_MAX]


def _sync_refusal(registration: DealRegistration | None, change: DealSyncChange) -> str:
    """Why ``change`` can't be applied ("" when it can): it names the registration, its status and what was asked."""
    if registration is None:
        return f"no deal registration {change.registration_id}"
    status = registration.status
    labels = dict(Status.choices)
    if status == Status.DRAFT:
        asked = ", ".join(labels.get(step, step) for step in change.steps) or "a change"
        return f"{registration.number} is a draft (private to the partner): {asked} from the CRM is not applied."
    for step in change.steps:
        if step not in SYNC_STEPS:
            return (f"{registration.number} is {labels[status]}: {labels.get(step, step)} can't be set from the CRM "
                    "(only Approved, Rejected, Returned, Won, Lost).")
        if status not in SYNC_STEPS[step]:
            allowed = " or ".join(labels[s] for s in SYNC_STEPS[step])
            return (f"{registration.number} is {labels[status]}: {labels[step]} from the CRM is not allowed "
                    f"(only from {allowed}).")
        status = step
    unknown = set(change.fields) - set(SYNC_FIELDS)
    if unknown:
        return f"{registration.number}: {', '.join(sorted(unknown))} can't be changed from the CRM."
    if "stage" in change.fields and status not in DealRegistration.OPEN:
        return (f"{registration.number} is {labels[status]}: its stage can't change to "
                f"{dict(DealRegistration.Stage.choices).get(change.fields['stage'], change.fields['stage'])}.")
    for name, value in change.fields.items():
        try:
            DealRegistration._meta.get_field(name).clean(value, registration)
        except ValidationError as error:
            return f"{registration.number}: {name} {value!r}: {' '.join(error.messages)}"
        if name == "amount" and value is not None and value < 0:
            return f"{registration.number}: the amount can't be negative ({value})."
    return ""


@dataclass
class DealSyncResult:
    applied: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)  # registration id → why nothing was written for it


@transaction.atomic
def deals_sync_apply(*, changes: list[DealSyncChange], via: str) -> DealSyncResult:
    """Apply changes a CRM user made (``via``: the CRM's name, shown as who did it; no PRM user).

    Decisions:
    - Validated first, against the registrations as they are (one query): a step PRM does not allow (a decision on a
      registration that is not submitted, a win or loss on one not approved, any change to a draft, a stage on a
      closed one, a value the column refuses) makes the whole change an error (``DealSyncResult.errors``, naming the
      registration and both statuses) and nothing is written for it; the others are applied.
    - Field values, set-based: one UPDATE of all the changed registrations (… WHERE status <> 'draft'), one INSERT of
      the history rows of stage changes, one INSERT of their deal.updated events.
    - Status steps, one registration at a time in a savepoint (they are few, and each is the vendor's own step):
      a decision is exactly ``deal_decide``'s work (``_decide``: claim, lead and protection on approval, history, feed,
      partner notified, deal.decided), a win ``deal_confirm_won``'s (``_confirm_won``: the lead converted), a loss the
      partner's report's (``_lost``: the lead lost with ``reason``), the partner told. A claim lost to a concurrent
      step is an error for that registration (its savepoint rolled back).
    Queries: 1 to load, then 3 for any number of field changes, plus each step's own."""
    result = DealSyncResult()
    registrations = DealRegistration.objects.in_bulk([change.registration_id for change in changes])
    valid: list[DealSyncChange] = []
    for change in changes:
        refusal = _sync_refusal(registrations.get(change.registration_id), change)
        if refusal:
            result.errors[change.registration_id] = refusal
        else:
            valid.append(change)
    now = timezone.now()
    edited, names, history = [], set(), []
    for change in (c for c in valid if c.fields):
        registration = registrations[change.registration_id]
        for name, value in change.fields.items():
            setattr(registration, name, value)
        registration.updated_at = now
        edited.append(registration)
        names |= set(change.fields)
        if "stage" in change.fields:
            history.append(DealEvent(registration=registration, status=registration.status, at=now,
                                     note=f"Stage: {registration.get_stage_display()} (in {via})."))
    if edited:
        DealRegistration.objects.exclude(status=Status.DRAFT).bulk_update(edited, [*sorted(names), "updated_at"])
        DealEvent.objects.bulk_create(history)
        events_emit(events=[EventSpec(topic="deal.updated", subject_type="deal", subject_id=registration.pk,
                                      payload=_payload(registration)) for registration in edited])
    for change in (c for c in valid if c.steps):
        try:
            with transaction.atomic():
                _sync_steps(registrations[change.registration_id], change, via=via)
        except ValidationError as error:
            result.errors[change.registration_id] = (f"{registrations[change.registration_id].number}: "
                                                     f"{' '.join(error.messages)}")
    result.applied = [c.registration_id for c in valid if c.registration_id not in result.errors]
    return result


def _sync_steps(registration: DealRegistration, change: DealSyncChange, *, via: str) -> None:
    for step in change.steps:
        if step in DECISIONS.values():
            partner = Partner.objects.select_related("tier", "assigned_to").get(pk=registration.partner_id)
            _decide(registration.pk, partner=partner, by=None, status=step, reason=change.reason, via=via)
        elif step == Status.WON:
            _confirm_won(registration.pk, by=None, statuses=[Status.APPROVED, Status.WON_PENDING], via=via)
        else:
            claimed = DealRegistration.objects.filter(
                pk=registration.pk, status__in=[Status.APPROVED, Status.WON_PENDING]
            ).update(status=Status.LOST, updated_at=timezone.now())
            current = _reload(registration.pk)
            if not claimed:
                raise ValidationError(f"This registration is {current.get_status_display().lower()}: it can't be "
                                      "closed as lost.")
            reason = change.reason[:LOST_REASON_MAX]
            event = _lost(current, by=None, reason=reason, note=f"{via}: {change.reason}")
            title = f"Deal lost: {current.number} {current.company}"
            _feed(current, kind=PortalEvent.Kind.DEAL_DECIDED, title=title,
                  key=f"deal:{current.pk}:event:{event.pk}", actor_id=None)
            _notify_partner(current, title=title, body=f"{via}: {change.reason}",
                            key=f"deal:{current.pk}:lost:{event.pk}")
            _emit("deal.updated", current)


# --- Beat: reminders, expiry notices, expiry (set-based claims) -------------------------------------------------------


def _q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _claim(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@transaction.atomic
def deals_remind_reviewers(*, now: datetime) -> int:
    """Registrations submitted more than ``settings.DEAL_REVIEW_REMIND_DAYS`` days ago and still waiting remind
    their reviewer (no reviewer: the managers), once per submission (claim: ``review_reminded_at``). Returns how many
    notifications were created; a second run finds nothing."""
    rows = _claim(f"""
        WITH claimed AS (
            UPDATE {_q(DealRegistration)} r SET review_reminded_at = %(now)s
            WHERE r.status = 'submitted' AND r.review_reminded_at IS NULL AND r.submitted_at <= %(due)s
            RETURNING r.id, r.company, r.partner_id, r.reviewer_id, r.submitted_at
        )
        SELECT c.id, c.company, p.name, CASE WHEN u.is_active THEN c.reviewer_id END, c.submitted_at
        FROM claimed c JOIN {_q(Partner)} p ON p.id = c.partner_id
        LEFT JOIN {_q(get_user_model())} u ON u.id = c.reviewer_id
        ORDER BY c.id
    """, {"now": now, "due": now - timedelta(days=settings.DEAL_REVIEW_REMIND_DAYS)})  # noqa: S608
    managers = None
    items = []
    for pk, company, partner_name, reviewer_id, submitted_at in rows:
        if reviewer_id is None and managers is None:
            managers = _manager_ids()
        waiting = (now - submitted_at).days
        for user_id in [reviewer_id] if reviewer_id else managers:
            items.append(NotificationItem(
                recipient_id=user_id, event=Notification.Event.DEAL_REMINDER, link=staff_link(pk),
                title=f"Waiting {waiting} days for your review: DR-{pk:06d} {company} ({partner_name})",
                body=f"{partner_name} submitted it on {timezone.localdate(submitted_at).isoformat()}.",
                source_key=f"deal:{pk}:review-reminder:{int(submitted_at.timestamp())}",
            ))
    return _notify(items)


@transaction.atomic
def deals_notify_expiring(*, now: datetime) -> int:
    """Approved registrations whose protection ends within 3, then 14 days tell the partner (the submitting user and
    the partner admins), in the feed and by notification: once per window (claim: ``expiry_notice`` moves 0 → 14 →
    3; the 3-day window is claimed first, so a registration inside both gets one notice). Returns how many
    registrations were claimed."""
    claimed = []
    for days in EXPIRY_NOTICES:
        previous = [0] + [d for d in EXPIRY_NOTICES if d > days]
        claimed += [(days, *row) for row in _claim(f"""
            UPDATE {_q(DealRegistration)} SET expiry_notice = %(days)s
            WHERE status = 'approved' AND expiry_notice = ANY(%(previous)s)
              AND protection_expires_at > %(now)s AND protection_expires_at <= %(until)s
            RETURNING id, company, partner_id, created_by_id, protection_expires_at
        """, {"days": days, "previous": previous, "now": now, "until": now + timedelta(days=days)})]  # noqa: S608
    if not claimed:
        return 0
    people = _partner_people([(partner_id, creator) for _d, _pk, _c, partner_id, creator, _e in claimed])
    feed, items = [], []
    for days, pk, company, partner_id, creator, expires_at in claimed:
        title = f"Protection ends within {days} days: DR-{pk:06d} {company}"
        key = f"deal:{pk}:expiring:{days}:{int(expires_at.timestamp())}"
        body = (f"The protection of this registration ends on {timezone.localdate(expires_at).isoformat()}. "
                "Update its stage, report it won or lost, or ask for an extension (once) in the portal.")
        feed.append(EventItem(partner_id=partner_id, kind=PortalEvent.Kind.DEAL_EXPIRING, title=title,
                              source_key=key, link=portal_link(pk)))
        items += [NotificationItem(recipient_id=user_id, event=Notification.Event.DEAL_EXPIRING, title=title,
                                   body=body, link=portal_link(pk), source_key=key)
                  for user_id in _recipients_for(people, partner_id, creator)]
    portal_events_record(items=feed, at=now)
    _notify(items)
    return len(claimed)


@transaction.atomic
def deals_expire(*, now: datetime) -> int:
    """Approved registrations whose protection has ended are closed (status expired): a history row each, the
    partner's feed and people, and the rep, are told. Returns how many; a second run finds none. A win waiting for
    the vendor's confirmation (won_pending) does not expire: the wait is the vendor's."""
    rows = _claim(f"""
        WITH claimed AS (
            UPDATE {_q(DealRegistration)} SET status = 'expired', updated_at = %(now)s
            WHERE status = 'approved' AND protection_expires_at <= %(now)s
            RETURNING id, company, partner_id, created_by_id, protection_expires_at
        )
        SELECT c.id, c.company, c.partner_id, c.created_by_id, c.protection_expires_at,
               CASE WHEN u.is_active THEN p.assigned_to_id END
        FROM claimed c JOIN {_q(Partner)} p ON p.id = c.partner_id
        LEFT JOIN {_q(get_user_model())} u ON u.id = p.assigned_to_id
        ORDER BY c.id
    """, {"now": now})  # noqa: S608
    if not rows:
        return 0
    DealEvent.objects.bulk_create([
        DealEvent(registration_id=pk, status=Status.EXPIRED, note="Protection expired.", at=now)
        for pk, *_rest in rows
    ])
    events_emit(events=[EventSpec(topic="deal.updated", subject_type="deal", subject_id=registration.pk,
                                  payload=_payload(registration))
                        for registration in DealRegistration.objects.filter(pk__in=[row[0] for row in rows])])
    people = _partner_people([(partner_id, creator) for _pk, _c, partner_id, creator, _e, _r in rows])
    feed, items = [], []
    for pk, company, partner_id, creator, _expires_at, rep_id in rows:
        title = f"Protection expired: DR-{pk:06d} {company}"
        key = f"deal:{pk}:expired"
        body = "The protection of this registration has ended; it is closed. Register the deal again if it is still open."
        feed.append(EventItem(partner_id=partner_id, kind=PortalEvent.Kind.DEAL_EXPIRING, title=title,
                              source_key=key, link=portal_link(pk)))
        items += [NotificationItem(recipient_id=user_id, event=Notification.Event.DEAL_EXPIRING, title=title,
                                   body=body, link=portal_link(pk), source_key=key)
                  for user_id in _recipients_for(people, partner_id, creator)]
        if rep_id:
            items.append(NotificationItem(recipient_id=rep_id, event=Notification.Event.DEAL_EXPIRING, title=title,
                                          body="The partner's protection has ended.", link=staff_link(pk),
                                          source_key=key))
    portal_events_record(items=feed, at=now)
    _notify(items)
    return len(rows)
