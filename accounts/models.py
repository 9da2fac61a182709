"""Identity providers (OpenID Connect) with their sign-in policy, the links between an IdP's subjects and our users,
and the organisation's sign-in policy. Written only by accounts.services (the admin calls them)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from partners.models import Partner


class AccountPolicy(models.Model):
    """The organisation's sign-in policy: one row (pk 1), created on first read (accounts.selectors.policy_get)."""

    staff_must_use_sso = models.BooleanField(
        default=False,
        help_text="Staff (reps and managers) sign in only through an identity provider; their password login is "
        "refused. Superusers keep their password, so someone can still get in while the identity provider is down.",
    )
    staff_totp_required = models.BooleanField(
        "staff must use an authenticator app", default=False,
        help_text="Staff without an authenticator app (TOTP) are sent to set one up right after signing in, and "
        "cannot use the application until they have; those with one enter its code at every sign-in.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sign-in policy"
        verbose_name_plural = "sign-in policy"

    def __str__(self):
        return "Sign-in policy"


class IdentityProvider(models.Model):
    """One OpenID Connect provider (Entra ID, Okta, Google Workspace, Keycloak…) and who may sign in through it."""

    class Audience(models.TextChoices):
        STAFF = "staff", "Staff (reps and managers)"
        PARTNER = "partner", "A partner organisation's users"

    class Role(models.TextChoices):
        REP = "rep", "Sales rep"
        MANAGER = "manager", "Manager"
        PARTNER_MEMBER = "member", "Partner member"
        PARTNER_ADMIN = "admin", "Partner admin"

    slug = models.SlugField(max_length=40, unique=True, help_text="In the sign-in URL: /accounts/oidc/<slug>/login/.")
    name = models.CharField(max_length=80, help_text='Shown on the login page: "Sign in with <name>".')
    issuer = models.URLField(
        max_length=300, help_text="The issuer URL; its /.well-known/openid-configuration is read at each sign-in."
    )
    client_id = models.CharField(max_length=255)
    client_secret_encrypted = models.TextField(
        blank=True, help_text="Encrypted with a key derived from SECRET_KEY (accounts.crypto); never shown again."
    )
    enabled = models.BooleanField(default=True)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.STAFF)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="identity_providers",
        help_text="For a partner organisation's own identity provider: the partner its users belong to.",
    )
    jit_enabled = models.BooleanField(
        "create accounts on first sign-in", default=False,
        help_text="Off: only people who already have an account (matched by verified email) can sign in.",
    )
    default_role = models.CharField(
        max_length=10, choices=Role.choices, default=Role.REP,
        help_text="The role of an account created on first sign-in when no group below matches.",
    )
    groups_claim = models.CharField(max_length=80, default="groups", help_text="The claim listing the person's groups.")
    group_roles = models.JSONField(
        default=dict, blank=True,
        help_text='Group → role, e.g. {"prm-managers": "manager", "prm-sales": "rep"}; the first role found in the '
        "order manager, rep (or admin, member) wins.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(audience="staff", partner__isnull=True) | Q(audience="partner", partner__isnull=False)),
                name="accounts_idp_partner_iff_partner_audience",
            ),
        ]

    def __str__(self):
        return self.name


class SsoIdentity(models.Model):
    """The person ``subject`` at ``provider`` is ``user``: written at their first SSO sign-in, matched first after."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.PROTECT, related_name="identities")
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities")
    email = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField()
    last_login_at = models.DateTimeField()

    class Meta:
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"
        constraints = [models.UniqueConstraint(fields=["provider", "subject"], name="accounts_identity_unique")]

    def __str__(self):
        return f"{self.provider_id}:{self.subject} → {self.user_id}"


class UserSession(models.Model):
    """A signed-in session of ``user`` (written at login by accounts.signals): lets the user see and end their sessions
    and lets deactivation end them all in one statement. Rows whose session is gone are ignored and pruned."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracked_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    method = models.CharField(max_length=80, blank=True, help_text='"password" or the identity provider\'s name.')

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="accounts_session_user_idx")]

    def __str__(self):
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class TotpDevice(models.Model):
    """A user's authenticator app (TOTP). The secret is encrypted (accounts.crypto); ``last_counter`` is the time step
    of the last code accepted, so a code works once (raised by a conditional UPDATE, accounts.services.totp_verify)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device")
    secret_encrypted = models.TextField()
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_counter = models.BigIntegerField(default=-1)

    class Meta:
        verbose_name = "authenticator app"

    def __str__(self):
        return f"TOTP of {self.user_id}"
