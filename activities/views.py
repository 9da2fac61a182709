"""Activity pages of one partner. Every view first checks the partner is visible to the user
(``partner_get_for_user``) and that the activity belongs to that partner; anything else is a 404. State changes are
POST only and go through activities.services; each success redirects back to the partner page with a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from activities import services
from activities.forms import (
    ActivityCancelForm,
    ActivityCompleteForm,
    ActivityLogForm,
    ActivityRemindForm,
    ActivityScheduleForm,
    activity_edit_form,
    log_initial,
)
from activities.models import Activity
from activities.selectors import activity_get_for_partner
from partners.selectors import partner_get_for_user
from prm.http import next_path

GET_POST = ["GET", "HEAD", "POST"]


def _activity_get_for_user(user, partner_pk, pk):
    """The partner (visible to ``user``, with tier and assigned_to) and its activity ``pk`` (with location), or 404."""
    partner = partner_get_for_user(user, partner_pk)
    return partner, activity_get_for_partner(partner=partner, pk=pk)


def _add_errors(form, error):
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _create_view(request, partner_pk, *, form_class, service, title, done_message, initial=None):
    """``initial``: a dict, or a function of the partner returning one."""
    partner = partner_get_for_user(request.user, partner_pk)
    data = request.POST if request.method == "POST" else None
    if callable(initial):
        initial = initial(partner) if data is None else None
    form = form_class(data, partner=partner, initial=initial or {})
    if request.method == "POST" and form.is_valid():
        try:
            activity = service(partner=partner, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, done_message.format(kind=activity.get_kind_display()))
            return redirect(next_path(request) or reverse("partners:detail", args=[partner.pk]))
    return render(
        request, "activities/activity_form.html",
        {"partner": partner, "form": form, "title": title, "next": next_path(request)},
    )


@login_required
@require_http_methods(GET_POST)
def activity_schedule(request, partner_pk):
    kind = request.GET.get("kind")
    return _create_view(
        request,
        partner_pk,
        form_class=ActivityScheduleForm,
        service=services.activity_schedule,
        title="Schedule a call or meeting",
        done_message="{kind} scheduled.",
        initial={"kind": kind} if kind in (Activity.Kind.CALL, Activity.Kind.MEETING) else None,
    )


@login_required
@require_http_methods(GET_POST)
def activity_remind(request, partner_pk):
    return _create_view(
        request,
        partner_pk,
        form_class=ActivityRemindForm,
        service=services.activity_remind,
        title="Set a reminder",
        done_message="Reminder set.",
    )


@login_required
@require_http_methods(GET_POST)
def activity_log(request, partner_pk):
    return _create_view(
        request,
        partner_pk,
        form_class=ActivityLogForm,
        service=services.activity_log,
        title="Log an activity",
        done_message="{kind} logged.",
        initial=lambda partner: log_initial(partner=partner, params=request.GET),
    )


def _close_view(request, partner_pk, pk, *, form_class, service, title, done_message):
    partner, activity = _activity_get_for_user(request.user, partner_pk, pk)
    if activity.status != Activity.Status.PLANNED:
        messages.error(request, f"This activity is already {activity.get_status_display().lower()}.")
        return redirect(next_path(request) or reverse("partners:detail", args=[partner.pk]))
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            service(activity=activity, by=request.user, outcome=form.cleaned_data["outcome"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done_message)
        return redirect(next_path(request) or reverse("partners:detail", args=[partner.pk]))
    return render(
        request,
        "activities/activity_close.html",
        {"partner": partner, "activity": activity, "form": form, "title": title, "next": next_path(request)},
    )


@login_required
@require_http_methods(GET_POST)
def activity_complete(request, partner_pk, pk):
    return _close_view(
        request,
        partner_pk,
        pk,
        form_class=ActivityCompleteForm,
        service=services.activity_complete,
        title="Mark done",
        done_message="Marked done.",
    )


@login_required
@require_http_methods(GET_POST)
def activity_cancel(request, partner_pk, pk):
    return _close_view(
        request,
        partner_pk,
        pk,
        form_class=ActivityCancelForm,
        service=services.activity_cancel,
        title="Cancel",
        done_message="Cancelled.",
    )


@login_required
@require_http_methods(GET_POST)
def activity_edit(request, partner_pk, pk):
    """Edit / reschedule a planned call, meeting or reminder (``services.activity_reschedule``); a done or cancelled
    one goes back with a message. 404 unless the user sees the partner and the activity is that partner's."""
    partner, activity = _activity_get_for_user(request.user, partner_pk, pk)
    back = next_path(request) or reverse("partners:detail", args=[partner.pk])
    if activity.status != Activity.Status.PLANNED:
        status = activity.get_status_display().lower()
        messages.error(request, f"This activity is already {status}: it can't be changed.")
        return redirect(back)
    data = request.POST if request.method == "POST" else None
    form = activity_edit_form(activity=activity, partner=partner, data=data)
    if request.method == "POST" and form.is_valid():
        before = (activity.sequence, activity.start_at)
        try:
            saved = services.activity_reschedule(activity=activity, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            kind = saved.get_kind_display() if saved.mode == Activity.Mode.SCHEDULED else "Reminder"
            if saved.start_at != before[1]:
                messages.success(request, f"{kind} rescheduled.")
            elif saved.sequence != before[0]:
                messages.success(request, f"{kind} updated.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(back)
    is_reminder = activity.mode == Activity.Mode.REMINDER
    title = "Edit reminder" if is_reminder else f"Edit {activity.get_kind_display().lower()}"
    return render(
        request, "activities/activity_form.html",
        {"partner": partner, "form": form, "title": title, "next": next_path(request)},
    )
