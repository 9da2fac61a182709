"""Reads of sign-in and account security: the policy, the identity providers offered on the login page, a user's
sessions. (No object here belongs to one user but the sessions: ``user_sessions`` is scoped to the user.)"""

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import AccountPolicy, IdentityProvider, TotpDevice, UserSession
from portal.selectors import STAFF, user_kind


def policy_get() -> AccountPolicy:
    """The sign-in policy (one query; defaults when nobody saved one yet — nothing is written on a read)."""
    return AccountPolicy.objects.filter(pk=1).first() or AccountPolicy(pk=1)


def login_providers() -> list[IdentityProvider]:
    """The enabled identity providers, for the login page's buttons (one query)."""
    return list(IdentityProvider.objects.filter(enabled=True).only("slug", "name", "audience", "issuer").order_by("name", "id"))


def password_login_refused(user: AbstractBaseUser) -> bool:
    """True when the policy says ``user`` must sign in through an identity provider (staff, not superusers: they keep
    their password so someone can get in while the identity provider is down). Two queries at most."""
    if user.is_superuser or not policy_get().staff_must_use_sso:
        return False
    return user_kind(user) == STAFF


def user_sessions(*, user: AbstractBaseUser) -> list[UserSession]:
    """``user``'s live sessions, newest first (one query: those whose Django session still exists and has not
    expired)."""
    live = Session.objects.filter(session_key=OuterRef("session_key"), expire_date__gt=timezone.now())
    return list(UserSession.objects.filter(Exists(live), user_id=user.pk).order_by("-created_at", "-id"))


def totp_enabled(user: AbstractBaseUser) -> bool:
    """``user`` has a confirmed authenticator app (one query)."""
    return TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).exists()


def totp_required(user: AbstractBaseUser) -> bool:
    """The policy requires an authenticator app of ``user`` (staff only; two queries at most)."""
    return policy_get().staff_totp_required and user_kind(user) == STAFF
