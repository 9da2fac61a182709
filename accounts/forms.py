"""The login form (with the SSO policy) and the password reset form (same answer whatever happens)."""

import logging
from urllib.parse import urlparse

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from accounts.selectors import password_login_refused

logger = logging.getLogger(__name__)

SSO_REQUIRED = (
    "Staff sign in through the organisation's identity provider: use the “Sign in with …” button below. "
    "Passwords are not accepted for your account."
)


class LoginForm(AuthenticationForm):
    """Django's login form (django-axes counts its failures), refusing a correct password when the policy says the
    user must use SSO — with that reason, not "wrong password"."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if password_login_refused(user):
            raise forms.ValidationError(SSO_REQUIRED, code="sso_required")


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, with the same SSO policy (a manager must not get around it through /admin/login/)."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if password_login_refused(user):
            raise forms.ValidationError(SSO_REQUIRED, code="sso_required")


class ResetForm(PasswordResetForm):
    """Django's reset form: it emails only active users with a usable password whose address matches (any case), and
    the page answers the same whether it did. The request only checks the address's shape and queues the rest
    (accounts.tasks.send_password_reset → ``deliver``): finding the account and talking to the mail server happen in
    the worker, so neither the answer nor its timing says whether an account uses the address. The link points at
    SITE_URL (not the request's Host header), and a mail server that is down is logged, not shown."""

    SUBJECT_TEMPLATE = "registration/password_reset_subject.txt"
    EMAIL_TEMPLATE = "registration/password_reset_email.txt"

    def deliver(self) -> None:
        """The worker's part: Django's save (one email per matching user), with the link on SITE_URL."""
        site = urlparse(settings.SITE_URL)
        super().save(domain_override=site.netloc, use_https=site.scheme == "https",
                     subject_template_name=self.SUBJECT_TEMPLATE, email_template_name=self.EMAIL_TEMPLATE)

    def get_users(self, email):
        return (user for user in super().get_users(email) if not password_login_refused(user))

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        context["site_name"] = "PRM"
        try:
            super().send_mail(subject_template_name, email_template_name, context, from_email, to_email,
                              html_email_template_name)
        except Exception:  # the SMTP server is down or refuses: the person sees the same page; we log it
            logger.exception("password reset email to user %s could not be sent", context["user"].pk)
