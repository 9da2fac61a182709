"""Writes of the portal's people: invitations, joining, colleagues (de)activated, e-mail domains and access requests.
The only writer of ``Membership``, ``Invitation``, ``PartnerDomain`` and ``AccessRequest`` (and of the partner
users' ``User`` rows it creates and switches off).

Decisions:
- A token is ``secrets.token_urlsafe(32)``; only its SHA-256 is stored (``Invitation.token_hash``). The token exists
  only in the email: the sender draws a fresh one each time it sends (rotating the hash in the same claim), so the
  row never needs the token and a re-send after a failure simply replaces a link nobody received.
- Sending is claimed row by row: ``SELECT … FOR UPDATE SKIP LOCKED`` + a conditional UPDATE (still not emailed,
  pending, under ``INVITATION_MAX_EMAIL_ATTEMPTS``) that bumps the attempts and the hash, held until the message is
  handed to the mail server and ``emailed_at`` written. Parallel senders take different rows; a crash rolls the claim
  back; the beat task (every few minutes) re-sends whatever is still not emailed. SMTP or Redis down never loses an
  invitation: the row is written first, in the request's transaction.
- Accepting claims the row with ``UPDATE … WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now``
  in the same transaction that creates the user and the membership: two accepts make one user, and a failure (the
  email taken meanwhile) leaves the invitation usable. An expired, used, revoked or unknown token is one error
  (``InvitationInvalid``), whichever it is.
- At most ``INVITATIONS_PENDING_MAX`` invitations wait per partner: inviting is not a way to send mail in bulk.
- One partner per user: an address that already has an account (any user, staff included) cannot accept.
- Deactivating a colleague switches off the membership AND the user (``is_active`` False: Django's backend refuses
  their session from the next request). Nobody deactivates themselves, and a partner always keeps an active admin
  (the partner's admin memberships are locked while checking).
- An access request answers the same whatever the domain; only a partner's domain creates a row and notifies its
  admins (in-app + email through ``notifications``). At most ``ACCESS_REQUESTS_PENDING_MAX`` wait per partner, so an
  anonymous form cannot flood a partner's admins.
"""

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create, site_url
from notifications.tasks import send_pending_emails
from partners.models import Partner
from portal.events import EventItem, portal_events_record
from portal.models import AccessRequest, DealProtection, Invitation, Membership, PartnerDomain, PortalEvent
from portal.people_selectors import token_hash
from portal.selectors import active_member_user_ids
from prm.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)
User = AbstractBaseUser

INVITATION_MAX_EMAIL_ATTEMPTS = 5
INVITATION_SEND_BATCH = 100
ACCESS_REQUESTS_PENDING_MAX = 20
INVITATIONS_PENDING_MAX = 100  # per partner: the invite form is not a way to send mail in bulk
EMAIL_MAX = 150  # the address becomes the username (150 characters in Django's User)
ONE_PARTNER_PER_USER = (
    "An account with this email address already exists, and an account belongs to one partner only. "
    "Ask whoever invited you to invite another address, or log in with your account."
)
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class InvitationInvalid(Exception):
    """The token is unknown, expired, used or revoked (deliberately not saying which)."""


def _user_label(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_has_account(email: str) -> bool:
    email = normalise_email(email)
    users = get_user_model().objects
    return users.filter(username__iexact=email).exists() or users.filter(email__iexact=email).exists()


def _admin_of(*, by: User, partner_id: int) -> Membership | None:
    """``by``'s active admin membership of the partner (None: not one)."""
    return Membership.objects.filter(
        user_id=by.pk, partner_id=partner_id, role=Membership.Role.ADMIN, is_active=True, user__is_active=True
    ).first()


def _check_inviter(*, partner: Partner, role: str, by: User) -> None:
    """Staff (the views scoped them with ``partner_get_for_user``) invite partner admins; a partner's active admins
    invite colleagues with either role; nobody else invites."""
    if Membership.objects.filter(user_id=by.pk).exists():
        if _admin_of(by=by, partner_id=partner.pk) is None:
            raise ValidationError("Only the partner's admins invite colleagues.")
    elif role != Membership.Role.ADMIN:
        raise ValidationError({"role": "Staff invite partner admins; they invite their colleagues."})


# --- Invitations --------------------------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *, partner: Partner, email: str, name: str = "", role: str = Membership.Role.MEMBER, by: User,
    now: datetime | None = None,
) -> Invitation:
    """Invite ``email`` to join ``partner`` with ``role``; the email goes out after the commit (and is retried by
    beat until it leaves). A pending invitation of the same address to the same partner is replaced (a re-send).
    Refused: someone already working at the partner, an unknown role, an inviter who may not invite."""
    now = now or timezone.now()
    email = normalise_email(email)
    if len(email) > EMAIL_MAX:
        raise ValidationError({"email": f"An address of at most {EMAIL_MAX} characters: it becomes the sign-in name."})
    if role not in Membership.Role.values:
        raise ValidationError({"role": "Choose a role."})
    _check_inviter(partner=partner, role=role, by=by)
    if Membership.objects.filter(partner=partner, user__username__iexact=email).exists() or Membership.objects.filter(
        partner=partner, user__email__iexact=email
    ).exists():
        raise ValidationError({"email": "This person already works here (see the colleagues list)."})
    Invitation.objects.filter(
        partner=partner, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    if Invitation.objects.filter(partner=partner, **_pending(now)).count() >= INVITATIONS_PENDING_MAX:
        raise ValidationError(f"{INVITATIONS_PENDING_MAX} invitations are waiting already: revoke some first.")
    invitation = Invitation(
        partner=partner, email=email, name=name.strip(), role=role, invited_by=by, created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_DAYS),
        # A placeholder nobody knows: the sender replaces it with the emailed token's hash.
        token_hash=token_hash(secrets.token_urlsafe(32)),
    )
    invitation.full_clean()
    invitation.save()
    _enqueue_invitation_email(invitation.pk)
    return invitation


def _enqueue_invitation_email(invitation_id: int) -> None:
    from portal.people_tasks import send_invitation_email  # the tasks module imports this one

    enqueue_on_commit(send_invitation_email, invitation_id)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User, now: datetime | None = None) -> bool:
    """Revoke a pending invitation (its link stops working). Returns whether it changed (a used or already revoked
    one is left alone)."""
    if Membership.objects.filter(user_id=by.pk).exists() and _admin_of(by=by, partner_id=invitation.partner_id) is None:
        raise ValidationError("Only the partner's admins revoke invitations.")
    now = now or timezone.now()
    changed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    if changed:
        invitation.revoked_at = now
    return bool(changed)


def _pending(now: datetime) -> dict:
    return {"accepted_at__isnull": True, "revoked_at__isnull": True, "expires_at__gt": now}


@dataclass
class SendRun:
    claimed: int = 0
    sent: int = 0
    failed: int = 0


def _invitation_message(invitation: Invitation, token: str) -> EmailMultiAlternatives:
    context = {
        "name": invitation.name,
        "partner": invitation.partner.name,
        "inviter": _user_label(invitation.invited_by),
        "role": invitation.get_role_display(),
        "url": site_url(reverse("portal:join", args=[token])),
        "expires_at": invitation.expires_at,
        "days": settings.INVITATION_DAYS,
    }
    subject = f"Your invitation to the {invitation.partner.name} partner portal"
    text = render_to_string("portal/people/invitation_email.txt", context)
    html = render_to_string("portal/people/invitation_email.html", context)
    message = EmailMultiAlternatives(subject=subject[:200], body=text, to=[invitation.email])
    message.attach_alternative(html, "text/html")
    return message


def invitations_send_emails(
    *, ids: list[int] | None = None, batch: int = INVITATION_SEND_BATCH, now: datetime | None = None
) -> SendRun:
    """Send the invitation emails not sent yet (those of ``ids``, or any), one row per transaction, through one mail
    connection. Safe to run twice and in parallel (see the module's decisions). Queries per row: the claim (lock +
    conditional UPDATE … RETURNING), the row with partner and inviter, the outcome."""
    now = now or timezone.now()
    run = SendRun()
    candidates = Invitation.objects.filter(emailed_at__isnull=True, email_attempts__lt=INVITATION_MAX_EMAIL_ATTEMPTS,
                                           **_pending(now))
    if ids is not None:
        candidates = candidates.filter(pk__in=ids)
    candidate_ids = list(candidates.order_by("created_at", "id").values_list("pk", flat=True)[:batch])
    if not candidate_ids:
        return run
    try:
        mail = get_connection(fail_silently=False)
        mail.open()
    except Exception as error:  # the server is down: count an attempt on each row, beat tries again
        logger.warning("invitation emails: connection failed: %s", error)
        Invitation.objects.filter(pk__in=candidate_ids, emailed_at__isnull=True).update(
            email_error=f"{type(error).__name__}: {error}"[:500]
        )
        _count_attempts(candidate_ids)
        run.failed = len(candidate_ids)
        return run
    try:
        for invitation_id in candidate_ids:
            outcome = _send_one(invitation_id, mail=mail, now=now)
            if outcome is None:
                continue
            run.claimed += 1
            if outcome:
                run.sent += 1
            else:
                run.failed += 1
    finally:
        try:
            mail.close()
        except Exception:  # closing a broken connection must not hide what was sent
            logger.warning("invitation emails: closing the connection failed", exc_info=True)
    return run


def _count_attempts(ids: list[int]) -> None:
    Invitation.objects.filter(pk__in=ids, emailed_at__isnull=True).update(email_attempts=F("email_attempts") + 1)


def _send_one(invitation_id: int, *, mail, now: datetime) -> bool | None:
    """Claim, send and mark one invitation. None: someone else has it, or it is no longer pending."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = (
            Invitation.objects.select_for_update(skip_locked=True)
            .filter(pk=invitation_id, emailed_at__isnull=True, email_attempts__lt=INVITATION_MAX_EMAIL_ATTEMPTS,
                    **_pending(now))
            .values_list("pk", flat=True)
        )
        if not list(locked):
            return None
        Invitation.objects.filter(pk=invitation_id, emailed_at__isnull=True).update(
            token_hash=token_hash(token), email_attempts=F("email_attempts") + 1
        )
        invitation = Invitation.objects.select_related("partner", "invited_by").get(pk=invitation_id)
        try:
            sent = mail.send_messages([_invitation_message(invitation, token)])
            error = "" if sent else "the mail backend did not accept the message"
        except Exception as failure:  # a refused recipient or a broken connection: this row waits for beat
            logger.warning("invitation %s: email failed: %s", invitation_id, failure)
            error = f"{type(failure).__name__}: {failure}"
        if error:
            Invitation.objects.filter(pk=invitation_id).update(email_error=error[:500])
            return False
        Invitation.objects.filter(pk=invitation_id).update(emailed_at=timezone.now(), email_error="")
        return True


# --- Joining ------------------------------------------------------------------------------------------------------


@transaction.atomic
def invitation_accept(
    *, token: str, first_name: str, last_name: str, password: str, now: datetime | None = None
) -> AbstractBaseUser:
    """Create the invitee's user (username = the invited address, lower case) and membership, using up the
    invitation. Raises ``InvitationInvalid`` (any bad token, same error), ``ValidationError`` for the password (Django's
    validators) or for an address that already has an account. Returns the new user (the view logs them in)."""
    now = now or timezone.now()
    invitation = Invitation.objects.select_related("partner").filter(token_hash=token_hash(token), **_pending(now)).first()
    if invitation is None:
        raise InvitationInvalid
    # Claim first: a parallel accept waits here on the row lock, then finds nothing pending. (Checking the address
    # before the claim let the loser see the winner's new account and report "address taken" instead.) Every error
    # below rolls the claim back with the transaction.
    claimed = Invitation.objects.filter(pk=invitation.pk, **_pending(now)).update(accepted_at=now)
    if not claimed:  # a parallel accept (or a revoke) won
        raise InvitationInvalid
    if email_has_account(invitation.email):
        raise ValidationError(ONE_PARTNER_PER_USER)
    user = get_user_model()(
        username=invitation.email, email=invitation.email, first_name=first_name.strip()[:150],
        last_name=last_name.strip()[:150], is_active=True,
    )
    validate_password(password, user=user)  # ValidationError with the validators' messages
    user.set_password(password)
    # The address was validated when invited (EmailField, at most EMAIL_MAX): as the username it may hold characters
    # Django's username validator would refuse (e.g. o'brien@…), which sign-in does not mind.
    user.full_clean(exclude=["password", "username", "email"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the address was taken meanwhile
        raise ValidationError(ONE_PARTNER_PER_USER) from None
    Membership.objects.create(user=user, partner=invitation.partner, role=invitation.role,
                              invited_by_id=invitation.invited_by_id, created_at=now)
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    portal_events_record(items=[EventItem(
        partner_id=invitation.partner_id, kind=PortalEvent.Kind.COLLEAGUE_JOINED,
        title=f"{_user_label(user)} joined", link=reverse("portal:people"), actor_id=user.pk,
        source_key=f"member:{user.pk}:joined",
    )], at=now)
    return user


@transaction.atomic
def sso_member_create(
    *, partner: Partner, email: str, first_name: str, last_name: str, role: str, now: datetime | None = None
) -> AbstractBaseUser:
    """A partner user created at their first sign-in through their partner's own identity provider (accounts.services,
    when that IdP allows it): username = the verified address, lower case, no usable password, and the membership.
    ValidationError when the address already has an account (one partner per user)."""
    now = now or timezone.now()
    email = normalise_email(email)
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Unknown partner role {role!r}."})
    user = get_user_model()(username=email, email=email, first_name=first_name.strip()[:150],
                            last_name=last_name.strip()[:150], is_active=True)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError(ONE_PARTNER_PER_USER) from None
    Membership.objects.create(user=user, partner=partner, role=role, created_at=now)
    portal_events_record(items=[EventItem(
        partner_id=partner.pk, kind=PortalEvent.Kind.COLLEAGUE_JOINED, title=f"{_user_label(user)} joined",
        link=reverse("portal:people"), actor_id=user.pk, source_key=f"member:{user.pk}:joined",
    )], at=now)
    return user


# --- Colleagues -----------------------------------------------------------------------------------------------------


@transaction.atomic
def membership_set_active(*, membership: Membership, active: bool, by: User, now: datetime | None = None) -> bool:
    """Deactivate (``active`` False) or reactivate a colleague: the membership and the user together. Only an active
    admin of the same partner; never themselves; never the partner's last active admin. Returns whether it changed."""
    now = now or timezone.now()
    # Lock the partner's admin memberships: two admins deactivating each other cannot both win.
    locked = {
        m.pk: m
        for m in Membership.objects.select_for_update().filter(partner_id=membership.partner_id,
                                                               role=Membership.Role.ADMIN)
    }
    target = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    actor = locked.get(getattr(_admin_of(by=by, partner_id=target.partner_id), "pk", None))
    if actor is None:
        raise ValidationError("Only the partner's admins change who has access.")
    if target.user_id == by.pk:
        raise ValidationError("You cannot deactivate yourself.")
    if target.is_active == active and target.user.is_active == active:
        return False
    if not active and target.role == Membership.Role.ADMIN:
        others = [m for m in locked.values() if m.is_active and m.pk != target.pk]
        if not others:
            raise ValidationError("A partner keeps at least one active admin.")
    Membership.objects.filter(pk=target.pk).update(is_active=active, deactivated_at=None if active else now)
    get_user_model().objects.filter(pk=target.user_id).update(is_active=active)
    membership.is_active, membership.deactivated_at = active, None if active else now
    return True


# --- E-mail domains and access requests ---------------------------------------------------------------------------


def normalise_domain(domain: str) -> str:
    return domain.strip().lower().lstrip("@").rstrip(".")


@transaction.atomic
def partner_domain_save(*, domain: PartnerDomain) -> PartnerDomain:
    """Add or change an e-mail domain of a partner (normalised; unique across partners)."""
    domain.domain = normalise_domain(domain.domain)
    if not DOMAIN_RE.match(domain.domain):
        raise ValidationError({"domain": "Enter a domain like example.com."})
    if PartnerDomain.objects.filter(domain=domain.domain).exclude(pk=domain.pk).exists():
        raise ValidationError({"domain": "This domain is already registered to a partner."})
    domain.full_clean(validate_unique=False)
    domain.save()
    return domain


@transaction.atomic
def partner_domain_add(*, partner: Partner, domain: str, by: User) -> PartnerDomain:
    return partner_domain_save(domain=PartnerDomain(partner=partner, domain=domain))


@transaction.atomic
def partner_domain_delete(*, domain: PartnerDomain, by: User) -> None:
    PartnerDomain.objects.filter(pk=domain.pk).delete()


@transaction.atomic
def access_request_create(*, name: str, email: str, now: datetime | None = None) -> AccessRequest | None:
    """Someone asks to join the partner their address's domain belongs to. Returns the request, or None when nothing
    was created (unknown domain, an existing account, one already waiting, the partner's queue full) — the caller
    answers the same in every case."""
    now = now or timezone.now()
    email = normalise_email(email)
    domain = email.rpartition("@")[2]
    partner_id = PartnerDomain.objects.filter(domain=domain).values_list("partner_id", flat=True).first()
    if partner_id is None or email_has_account(email):
        return None
    pending = AccessRequest.objects.filter(partner_id=partner_id, status=AccessRequest.Status.PENDING)
    if pending.count() >= ACCESS_REQUESTS_PENDING_MAX:
        return None
    try:
        with transaction.atomic():
            request = AccessRequest.objects.create(partner_id=partner_id, email=email, name=name.strip()[:150],
                                                   created_at=now)
    except IntegrityError:  # one is waiting already
        return None
    admins = active_member_user_ids(partner_ids=[partner_id], admins_only=True).get(partner_id, [])
    created = notifications_create(items=[
        NotificationItem(
            recipient_id=user_id, event=Notification.Event.ACCESS_REQUEST,
            title=f"{request.name} <{email}> asks to join the partner portal",
            body="Approve to send them an invitation, or decline.",
            link=reverse("portal:people") + "#access-requests", source_key=f"access_request:{request.pk}",
        )
        for user_id in admins
    ])
    if created:
        enqueue_on_commit(send_pending_emails)
    return request


@transaction.atomic
def access_request_decide(
    *, access_request: AccessRequest, approve: bool, by: User, role: str = Membership.Role.MEMBER,
    now: datetime | None = None,
) -> Invitation | None:
    """Approve (an invitation goes to the address) or decline a waiting request; only the partner's admins. Returns
    the invitation when approved; None when declined or when it was already decided."""
    now = now or timezone.now()
    if _admin_of(by=by, partner_id=access_request.partner_id) is None:
        raise ValidationError("Only the partner's admins decide access requests.")
    status = AccessRequest.Status.APPROVED if approve else AccessRequest.Status.DECLINED
    changed = AccessRequest.objects.filter(pk=access_request.pk, status=AccessRequest.Status.PENDING).update(
        status=status, decided_at=now, decided_by=by
    )
    if not changed:
        return None
    access_request.status, access_request.decided_at = status, now
    if not approve:
        return None
    return invitation_create(partner=access_request.partner, email=access_request.email, name=access_request.name,
                             role=role, by=by, now=now)


# --- Settings edited in the admin -----------------------------------------------------------------------------------


@transaction.atomic
def deal_protection_save(*, protection: DealProtection) -> DealProtection:
    """A tier's deal protection (days, extension days), validated; the admin's only write of it."""
    protection.full_clean()
    protection.save()
    return protection
