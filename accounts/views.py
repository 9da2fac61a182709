"""Login (password + identity provider buttons), password reset, and the user's own sessions. Thin: forms and
accounts.services do the work."""

from urllib.parse import urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts import selectors, services, signin, totp
from accounts.forms import LoginForm, ResetForm
from accounts.tasks import send_password_reset
from portal.selectors import PARTNER, SESSION_KIND
from prm.tasks import enqueue_on_commit

User = get_user_model()
TOTP_SALT = "prm.accounts.totp-enrol"


class LoginView(auth_views.LoginView):
    """/accounts/login/: Django's LoginView with our form, and a "Sign in with <IdP>" button per enabled IdP."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        # the password was right (django-axes saw it): the second factor when the user has one, then login
        return signin.finish_sign_in(self.request, form.get_user(), method="password", next_url=self.get_success_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["identity_providers"] = self.identity_providers = selectors.login_providers()
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        # The SSO buttons POST here and are redirected to the IdP: CSP's form-action covers that redirect, so this page
        # allows the enabled IdPs' origins (their authorization endpoint must be on the issuer's origin).
        origins = sorted({origin_of(idp.issuer) for idp in getattr(self, "identity_providers", [])} - {""})
        if origins:
            response._csp_update = {"form-action": origins}
        return response


def origin_of(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme in ("http", "https") and parsed.netloc else ""


class PasswordResetView(auth_views.PasswordResetView):
    """The address is checked for shape here; the lookup and the email are a task after commit (ResetForm)."""

    form_class = ResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        enqueue_on_commit(send_password_reset, email=form.cleaned_data["email"])
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "reset_minutes": settings.PASSWORD_RESET_TIMEOUT // 60}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


def _layout(request) -> str:
    """Partner users see these pages in the portal's layout (their kind is in the session: no query)."""
    return "portal/base.html" if request.session.get(SESSION_KIND) == PARTNER else "base.html"


@login_required
def sessions(request):
    """The signed-in user's sessions, this one marked, each with "End" (and "End all others")."""
    rows = selectors.user_sessions(user=request.user)
    return render(request, "accounts/sessions.html", {"rows": rows, "current_key": request.session.session_key,
                                                      "layout": _layout(request)})


@login_required
@require_POST
def session_end(request, pk: int):
    if not services.sessions_end(user=request.user, session_id=pk):
        raise Http404("not one of your sessions")
    messages.success(request, "That session has ended.")
    return redirect("account_sessions")


@login_required
@require_POST
def sessions_end_others(request):
    count = services.sessions_end(user=request.user, keep_key=request.session.session_key)
    messages.success(request, f"{count} other session(s) ended." if count else "No other session was open.")
    return redirect("account_sessions")


def login_code(request):
    """The second step of signing in for someone with an authenticator app: its current code (a code works once;
    five wrong codes and the sign-in starts again)."""
    data = signin.pending(request)
    if data is None:
        messages.error(request, "Your sign-in timed out. Sign in again.")
        return redirect("login")
    error = ""
    if request.method == "POST":
        user = User.objects.filter(pk=data["user"], is_active=True).first()
        if user is not None and services.totp_verify(user=user, code=request.POST.get("code", "")):
            return signin.finish_second_factor(request, data)
        if user is not None:  # django-axes counts a wrong code as a failed login of that username (and IP)
            user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
        data["tries"] += 1
        if data["tries"] >= signin.MAX_TRIES:
            request.session.pop(signin.PENDING_KEY, None)
            messages.error(request, "Too many wrong codes. Sign in again.")
            return redirect("login")
        request.session[signin.PENDING_KEY] = data
        error = "That code is not right (or was already used). Enter the 6 digits your app shows now."
    return render(request, "accounts/login_code.html", {"error": error}, status=400 if error else 200)


@login_required
def two_factor(request):
    """The user's authenticator app: set one up (QR code + first code), or turn it off when the policy allows."""
    user = request.user
    enabled = selectors.totp_enabled(user)
    required = selectors.totp_required(user)
    error = ""
    if request.method == "POST" and request.POST.get("action") == "disable":
        try:
            services.totp_disable(user=user)
        except ValidationError as refusal:
            messages.error(request, " ".join(refusal.messages))
        else:
            messages.success(request, "Your authenticator app is turned off.")
        return redirect("account_two_factor")
    secret = None
    if request.method == "POST" and not enabled:
        # the secret the page showed comes back signed (bound to this user, 15 minutes): no session state to race
        try:
            data = signing.loads(request.POST.get("pending", ""), salt=TOTP_SALT, max_age=15 * 60)
            secret = data["s"] if data.get("u") == user.pk else None
        except (signing.BadSignature, KeyError, TypeError):
            secret = None
        if secret and services.totp_confirm(user=user, secret=secret, code=request.POST.get("code", "")):
            request.session.pop(signin.ENROL_KEY, None)
            messages.success(request, "Your authenticator app is set up: you will enter its code when you sign in.")
            return redirect(settings.LOGIN_REDIRECT_URL)
        error = "That code is not right. Enter the 6 digits the app shows now (after scanning the QR code)."
    context = {"enabled": enabled, "required": required, "error": error, "layout": _layout(request),
               "must_enrol": bool(request.session.get(signin.ENROL_KEY))}
    if not enabled:
        if not secret:
            secret = totp.new_secret()
            error = error if request.method != "POST" else "This set-up page is too old. Scan the new code below."
        uri = totp.provisioning_uri(secret, account=user.get_username())
        context.update(secret=secret, qr=totp.qr_data_uri(uri), error=error,
                       pending=signing.dumps({"u": user.pk, "s": secret}, salt=TOTP_SALT))
    return render(request, "accounts/two_factor.html", context, status=400 if error else 200)
