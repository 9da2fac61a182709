"""Writes of sign-in and account security: identity providers and the policy, SSO sign-in (linking, just-in-time
accounts), tracked sessions, and deactivating a user. The only writer of the accounts tables and of the staff ``User``
rows created by SSO.

Decisions:
- Who signs in: first the link (IdP, subject) written at an earlier sign-in; else the one user whose email is the
  IdP's *verified* email (case-insensitive); else, only when the IdP allows just-in-time creation, a new account with
  the role from the groups claim (``group_roles``) or the IdP's default role. An email the IdP does not say is verified
  is refused before anything is looked up: an unverified address must never take over an account.
- The IdP's audience is enforced: a staff IdP signs in staff only, a partner's IdP only that partner's users (a partner
  user is never staff, and another partner's user is refused).
- Everything happens in one transaction that raises on a refusal: nothing (user, membership, link) is left behind
  by a sign-in that does not end signed in. Two first sign-ins at once create one account (the username, the link
  and the partner membership are unique; the loser is refused with "try again").
- Deactivating a user switches ``is_active`` off (Django then refuses their session on the next request), deletes
  every tracked session row of theirs, revokes their API keys and their calendar feed token — each one statement,
  through the owning app's service.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone

from accounts import crypto, totp
from accounts.models import AccountPolicy, IdentityProvider, SsoIdentity, TotpDevice, UserSession
from api.services import keys_revoke_for_user
from notifications.preferences import calendar_token_revoke
from partners.roles import MANAGER, SALES_REP
from portal.models import Membership
from portal.people_services import sso_member_create

logger = logging.getLogger(__name__)
User = get_user_model()

STAFF_ROLES = (IdentityProvider.Role.MANAGER, IdentityProvider.Role.REP)  # precedence when several groups match
PARTNER_ROLES = (IdentityProvider.Role.PARTNER_ADMIN, IdentityProvider.Role.PARTNER_MEMBER)
ASK_ADMIN = "Ask your administrator to give you access, then sign in again."


class SsoRefused(Exception):
    """A sign-in the policy does not allow; ``message`` is for the person, ``code`` for the log and the tests."""

    def __init__(self, code: str, message: str, title: str = "You cannot sign in here yet"):
        super().__init__(code)
        self.code, self.message, self.title = code, message, title


# --- Identity providers and the policy --------------------------------------------------------------------------------


def identity_provider_validate(idp: IdentityProvider) -> None:
    """ValidationError naming the field when the audience, partner, roles or slug do not fit together."""
    allowed = STAFF_ROLES if idp.audience == IdentityProvider.Audience.STAFF else PARTNER_ROLES
    names = ", ".join(allowed)
    errors = {}
    if idp.default_role not in allowed:
        errors["default_role"] = f"For this audience the role must be one of: {names}."
    if not isinstance(idp.group_roles, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in idp.group_roles.items()
    ):
        errors["group_roles"] = 'Write an object of group names to roles, e.g. {"prm-managers": "manager"}.'
    elif bad := sorted(v for v in idp.group_roles.values() if v not in allowed):
        errors["group_roles"] = f"Unknown role {bad[0]!r}: use one of {names}."
    if idp.audience == IdentityProvider.Audience.PARTNER and idp.partner_id is None:
        errors["partner"] = "Choose the partner whose users sign in through this identity provider."
    if idp.audience == IdentityProvider.Audience.STAFF and idp.partner_id is not None:
        errors["partner"] = "A staff identity provider belongs to no partner."
    if idp.slug == "openid_connect":
        errors["slug"] = "Choose another slug."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def identity_provider_save(*, idp: IdentityProvider, client_secret: str | None = None) -> IdentityProvider:
    """Validate and store ``idp``; ``client_secret`` replaces the stored (encrypted) one when given."""
    if client_secret:
        idp.client_secret_encrypted = crypto.encrypt(client_secret)
    idp.issuer = (idp.issuer or "").strip()
    identity_provider_validate(idp)  # first: its messages name the field (the constraint's would not)
    idp.full_clean()
    idp.save()
    return idp


@transaction.atomic
def policy_save(*, staff_must_use_sso: bool, staff_totp_required: bool = False) -> AccountPolicy:
    policy, _created = AccountPolicy.objects.select_for_update().get_or_create(pk=1)
    policy.staff_must_use_sso = bool(staff_must_use_sso)
    policy.staff_totp_required = bool(staff_totp_required)
    policy.save(update_fields=["staff_must_use_sso", "staff_totp_required", "updated_at"])
    return policy


# --- SSO sign-in ----------------------------------------------------------------------------------------------------


def _role_for(idp: IdentityProvider, groups) -> str:
    if isinstance(groups, str):
        groups = [groups]
    found = {idp.group_roles.get(g) for g in groups if isinstance(g, str)} if isinstance(groups, list) else set()
    order = STAFF_ROLES if idp.audience == IdentityProvider.Audience.STAFF else PARTNER_ROLES
    return next((role for role in order if role in found), idp.default_role)


def _create_user(*, idp: IdentityProvider, email: str, given_name: str, family_name: str, groups, now) -> AbstractBaseUser:
    role = _role_for(idp, groups)
    if idp.audience == IdentityProvider.Audience.PARTNER:
        try:
            return sso_member_create(
                partner=idp.partner, email=email, first_name=given_name, last_name=family_name, role=role, now=now
            )
        except ValidationError:
            raise SsoRefused("address_taken", f"The address {email} already has an account. {ASK_ADMIN}") from None
    user = User(username=email, email=email, first_name=given_name[:150], last_name=family_name[:150],
                is_active=True, is_staff=role == IdentityProvider.Role.MANAGER)
    user.set_unusable_password()  # signs in through the IdP (a password can be set later by a reset)
    user.full_clean(exclude=["password", "username"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise SsoRefused("username_taken", "An account with this address is being created; try again.") from None
    user.groups.add(Group.objects.get(name=MANAGER if role == IdentityProvider.Role.MANAGER else SALES_REP))
    return user


def _check_audience(idp: IdentityProvider, user: AbstractBaseUser) -> None:
    membership = Membership.objects.filter(user_id=user.pk).values("partner_id", "is_active").first()
    if idp.audience == IdentityProvider.Audience.STAFF and membership is not None:
        raise SsoRefused("partner_user_on_staff_idp", f"This sign-in is for staff. {ASK_ADMIN}")
    if idp.audience == IdentityProvider.Audience.PARTNER and (
        membership is None or membership["partner_id"] != idp.partner_id or not membership["is_active"]
    ):
        raise SsoRefused("not_this_partner", f"This sign-in is for {idp.partner.name}'s people. {ASK_ADMIN}")


@transaction.atomic
def sso_sign_in(
    *, provider: IdentityProvider, subject: str, email, email_verified, given_name=None, family_name=None,
    groups=None, now: datetime | None = None,
) -> AbstractBaseUser:
    """The user the verified ID token of ``provider`` stands for (linked, matched or created); SsoRefused otherwise,
    with nothing written."""
    now = now or timezone.now()
    email = email.strip().lower() if isinstance(email, str) else ""
    if not email or "@" not in email:
        raise SsoRefused("no_email", f"Your identity provider did not tell us your email address. {ASK_ADMIN}")
    if email_verified is not True and str(email_verified).lower() != "true":
        raise SsoRefused(
            "email_not_verified",
            f"Your identity provider says the address {email} is not verified, so we cannot match it to an account. "
            f"Verify it there, or {ASK_ADMIN[0].lower()}{ASK_ADMIN[1:]}",
        )
    given_name = given_name if isinstance(given_name, str) else ""
    family_name = family_name if isinstance(family_name, str) else ""

    identity = SsoIdentity.objects.select_related("user").filter(provider=provider, subject=subject).first()
    if identity is not None:
        user = identity.user
    else:
        matches = list(User.objects.filter(email__iexact=email).order_by("pk")[:2])
        if len(matches) > 1:
            raise SsoRefused("email_ambiguous", f"Several accounts use the address {email}. {ASK_ADMIN}")
        if matches:
            user = matches[0]
        elif provider.jit_enabled:
            user = _create_user(idp=provider, email=email, given_name=given_name, family_name=family_name,
                                groups=groups, now=now)
        else:
            raise SsoRefused("no_account", f"There is no account for {email} here. {ASK_ADMIN}")
    if not user.is_active:
        raise SsoRefused("inactive", f"Your account here is deactivated. {ASK_ADMIN}", title="Account deactivated")
    _check_audience(provider, user)
    if identity is None:
        try:
            with transaction.atomic():
                identity = SsoIdentity.objects.create(provider=provider, subject=subject, user=user, email=email,
                                                      created_at=now, last_login_at=now)
        except IntegrityError:
            raise SsoRefused("race", "You are being signed in from another window; try again.") from None
    else:
        SsoIdentity.objects.filter(pk=identity.pk).update(last_login_at=now, email=email)
    return user


# --- Sessions and deactivation ----------------------------------------------------------------------------------------


def session_record(*, user: AbstractBaseUser, session_key: str, ip_address: str | None, user_agent: str,
                   method: str, now: datetime | None = None) -> None:
    """Remember the session ``user`` just signed in with (one upsert; called from the login signal)."""
    if not session_key:
        return
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user_id": user.pk, "created_at": now or timezone.now(), "ip_address": ip_address or None,
                  "user_agent": (user_agent or "")[:300], "method": method[:80]},
    )


@transaction.atomic
def sessions_end(*, user: AbstractBaseUser, session_id: int | None = None, keep_key: str | None = None) -> int:
    """End ``user``'s tracked sessions (one when ``session_id``; all but ``keep_key`` otherwise): the session rows and
    our records go in two statements. Returns how many records went."""
    records = UserSession.objects.filter(user_id=user.pk)
    if session_id is not None:
        records = records.filter(pk=session_id)
    if keep_key:
        records = records.exclude(session_key=keep_key)
    Session.objects.filter(session_key__in=Subquery(records.values("session_key"))).delete()
    deleted, _ = records.delete()
    return deleted


@dataclass(frozen=True)
class Deactivation:
    sessions: int
    api_keys: int


@transaction.atomic
def user_deactivate(*, user: AbstractBaseUser, by: AbstractBaseUser | None = None,
                    now: datetime | None = None) -> Deactivation:
    """Switch ``user`` off: inactive, sessions ended, API keys and the calendar feed token revoked. Idempotent."""
    now = now or timezone.now()
    if by is not None and by.pk == user.pk:
        raise ValidationError("You cannot deactivate yourself.")
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    sessions = sessions_end(user=user)
    keys = keys_revoke_for_user(user=user, now=now)
    calendar_token_revoke(user=user)
    logger.info("user %s deactivated by %s: %s sessions, %s API keys", user.pk, getattr(by, "pk", None), sessions, keys)
    return Deactivation(sessions=sessions, api_keys=keys)


# --- Authenticator app (TOTP) -------------------------------------------------------------------------------------


@transaction.atomic
def totp_confirm(*, user: AbstractBaseUser, secret: str, code: str, now: datetime | None = None) -> bool:
    """Switch on the authenticator app whose ``secret`` produced ``code`` (replacing any earlier one). False, with
    nothing written, when the code is wrong."""
    counter = totp.matching_counter(secret, code)
    if counter is None:
        return False
    TotpDevice.objects.update_or_create(
        user_id=user.pk, defaults={"secret_encrypted": crypto.encrypt(secret), "created_at": now or timezone.now(),
                                   "confirmed_at": now or timezone.now(), "last_counter": counter},
    )
    return True


def totp_verify(*, user: AbstractBaseUser, code: str) -> bool:
    """True when ``code`` is the current code of ``user``'s confirmed app and no code of this or a later time step was
    accepted before (one conditional UPDATE: a code works once, even in two requests at the same moment)."""
    device = TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).first()
    if device is None:
        return False
    counter = totp.matching_counter(crypto.decrypt(device.secret_encrypted), code)
    if counter is None:
        return False
    return TotpDevice.objects.filter(pk=device.pk, last_counter__lt=counter).update(last_counter=counter) == 1


@transaction.atomic
def totp_disable(*, user: AbstractBaseUser) -> None:
    """Remove ``user``'s authenticator app; refused (ValidationError) when the policy requires one for them."""
    from accounts.selectors import totp_required

    if totp_required(user):
        raise ValidationError("Your organisation requires an authenticator app for your account.")
    TotpDevice.objects.filter(user_id=user.pk).delete()


def totp_reset(*, user: AbstractBaseUser, by: AbstractBaseUser) -> int:
    """An administrator removes ``user``'s authenticator app (a lost phone): their next sign-in needs no code, or
    sends them to set up a new app when the policy requires one. Returns how many were removed (0 or 1)."""
    deleted, _ = TotpDevice.objects.filter(user_id=user.pk).delete()
    logger.info("authenticator app of user %s removed by %s", user.pk, by.pk)
    return deleted
