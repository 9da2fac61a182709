"""/settings/webhooks/: managers and admins register webhook endpoints (the secret is shown once, in the answer to
the POST that made or rotated it, never cached), edit, rotate, delete them, send a test event, read an endpoint's
delivery log and send a delivery again. Reps and anyone else's endpoint: 404. Form → webhooks.services → page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from webhooks.forms import EndpointEditForm, EndpointForm
from webhooks.models import TEST_TOPIC, TOPICS
from webhooks.selectors import (
    delivery_get_for_user,
    delivery_page,
    endpoint_get_for_user,
    endpoints_of,
    may_manage,
)
from webhooks.services import (
    MAX_ATTEMPTS,
    delivery_resend,
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
)

TOPIC_LABELS = {**dict(TOPICS), TEST_TOPIC: "Test event"}


def _managers_only(user) -> None:
    if not may_manage(user):
        raise Http404


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_list(request):
    """Queries for GET: the session, the user, the manager check, the endpoints with their owners (4)."""
    _managers_only(request.user)
    secret = created = None
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                created, secret = endpoint_create(owner=request.user, url=form.cleaned_data["url"],
                                                  description=form.cleaned_data["description"],
                                                  events=form.cleaned_data["events"])
            except ValidationError as error:
                _add_errors(form, error)
            else:
                form = EndpointForm()
    else:
        form = EndpointForm()
    response = render(request, "webhooks/list.html", {
        "form": form,
        "endpoints": endpoints_of(user=request.user),
        "secret": secret,
        "created": created,
        "topic_labels": TOPIC_LABELS,
    }, status=200 if request.method != "POST" or secret else 400)
    add_never_cache_headers(response)
    return response


def _detail(request, endpoint, *, form=None, secret=None, status=200):
    if form is None:
        form = EndpointEditForm(initial={"url": endpoint.url, "description": endpoint.description,
                                         "events": endpoint.events, "is_active": endpoint.is_active})
    response = render(request, "webhooks/detail.html", {
        "endpoint": endpoint,
        "form": form,
        "secret": secret,
        "page": delivery_page(endpoint=endpoint, page=request.GET.get("page")),
        "topic_labels": TOPIC_LABELS,
        "max_attempts": MAX_ATTEMPTS,
    }, status=status)
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_detail(request, pk: int):
    """The endpoint's settings and delivery log; POST saves the settings. Queries for GET: the session, the user,
    the manager check, the endpoint with its owner, one page of its log (5)."""
    _managers_only(request.user)
    endpoint = endpoint_get_for_user(user=request.user, pk=pk)
    if request.method != "POST":
        return _detail(request, endpoint)
    form = EndpointEditForm(request.POST)
    if form.is_valid():
        try:
            endpoint_update(endpoint=endpoint, by=request.user, url=form.cleaned_data["url"],
                            description=form.cleaned_data["description"], events=form.cleaned_data["events"],
                            is_active=form.cleaned_data["is_active"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("webhooks:detail", pk=endpoint.pk)
    return _detail(request, endpoint, form=form, status=400)


@login_required
@require_POST
def endpoint_rotate(request, pk: int):
    """A new secret, shown once in this answer (200, not cached; reloading the page does not show it again)."""
    _managers_only(request.user)
    endpoint = endpoint_get_for_user(user=request.user, pk=pk)
    endpoint, secret = endpoint_rotate_secret(endpoint=endpoint, by=request.user)
    return _detail(request, endpoint, secret=secret)


@login_required
@require_POST
def endpoint_remove(request, pk: int):
    _managers_only(request.user)
    endpoint = endpoint_get_for_user(user=request.user, pk=pk)
    endpoint_delete(endpoint=endpoint, by=request.user)
    messages.success(request, f"Endpoint {endpoint.url} deleted, with its delivery log.")
    return redirect("webhooks:list")


@login_required
@require_POST
def endpoint_test(request, pk: int):
    _managers_only(request.user)
    endpoint = endpoint_get_for_user(user=request.user, pk=pk)
    try:
        delivery = endpoint_send_test(endpoint=endpoint, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Test event {delivery.message_id} queued: its outcome appears in the log below.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@login_required
@require_POST
def delivery_send_again(request, pk: int, delivery_pk: int):
    _managers_only(request.user)
    delivery = delivery_get_for_user(user=request.user, endpoint_pk=pk, pk=delivery_pk)
    try:
        queued = delivery_resend(delivery=delivery, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if queued:
            messages.success(request, f"{delivery.message_id} queued to be sent again.")
        else:
            messages.info(request, f"{delivery.message_id} is being sent right now: see its outcome in a moment.")
    return redirect("webhooks:detail", pk=pk)
