"""/settings/api-keys/: managers and admins create API keys for themselves (the secret is shown once, in the answer
to the POST that made it, never cached), list theirs and revoke them. Form → api.services → page."""

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import ApiKeyForm
from api.models import SCOPE_GROUPS
from api.selectors import api_key_get_for_user, api_keys_of
from api.services import key_create, key_revoke
from partners.selectors import user_sees_all_partners


def _managers_only(user) -> None:
    if not user_sees_all_partners(user):
        raise Http404


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_keys(request):
    """Queries for GET: the session, the user, the manager check, the keys (4)."""
    _managers_only(request.user)
    secret = None
    created = None
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            expires_on = form.cleaned_data["expires_on"]
            expires_at = timezone.make_aware(datetime.combine(expires_on, time.min)) if expires_on else None
            try:
                created, secret = key_create(owner=request.user, name=form.cleaned_data["name"],
                                             scopes=form.cleaned_data["scopes"], expires_at=expires_at)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error({"expires_at": "expires_on"}.get(field, field) if field != "__all__" else None,
                                   errors)
            else:
                form = ApiKeyForm()
    else:
        form = ApiKeyForm()
    response = render(request, "api/keys.html", {
        "form": form,
        "keys": api_keys_of(user=request.user),
        "secret": secret,
        "created": created,
        "scope_groups": SCOPE_GROUPS,
        "now": timezone.now(),
    }, status=200 if request.method != "POST" or secret else 400)
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def api_key_revoke(request, pk: int):
    _managers_only(request.user)
    key = api_key_get_for_user(user=request.user, pk=pk)
    key_revoke(key=key, by=request.user)
    messages.success(request, f"API key {key.name} ({key.prefix}…) revoked: it no longer works.")
    return redirect("api_keys")
