"""Activity pages of one partner (``/partners/<partner_pk>/activities/…``) or one customer
(``/customers/<customer_pk>/activities/…``): the same views, the URL says which. Every view first looks the partner
or customer up through its access helper (``activities.subjects.subject_get_for_user``: ``partner_get_for_user`` /
``customer_get_for_user``) and checks the activity is that one's; anything else is a 404. State changes are POST
only and go through activities.services; each success redirects back to the partner's or customer's page with a
message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from activities import services
from activities.forms import (
    ActivityCancelForm,
    ActivityCompleteForm,
    ActivityFollowUpForm,
    ActivityLogForm,
    ActivityRemindForm,
    activity_edit_form,
    follow_up_initial,
    log_initial,
)
from activities.models import Activity
from activities.selectors import activity_get_for_subject
from activities.subjects import Subject, subject_get_for_user
from prm.http import next_path

GET_POST = ["GET", "HEAD", "POST"]


def _activity_get_for_user(user, pk, *, partner_pk=None, customer_pk=None) -> tuple[Subject, Activity]:
    """The partner or customer (visible to ``user``) and its activity ``pk`` (with location), or 404."""
    subject = subject_get_for_user(user, partner_pk=partner_pk, customer_pk=customer_pk)
    return subject, activity_get_for_subject(subject=subject, pk=pk)


def _context(subject: Subject, **extra) -> dict:
    """The forms' templates show whom the activity is with (``subject``); ``partner`` stays for older includes."""
    return {"subject": subject, "partner": subject.partner, **extra}


def _add_errors(form, error):
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _create_view(request, subject: Subject, *, form_class, service, title, done_message, initial=None):
    """``initial``: a dict, or a function of the subject returning one."""
    data = request.POST if request.method == "POST" else None
    if callable(initial):
        initial = initial(subject) if data is None else None
    form = form_class(data, initial=initial or {}, **subject.service_kwargs())
    if request.method == "POST" and form.is_valid():
        try:
            activity = service(by=request.user, **subject.service_kwargs(), **form.service_kwargs())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, done_message.format(kind=activity.get_kind_display()))
            return redirect(next_path(request) or subject.detail_url)
    return render(
        request, "activities/activity_form.html",
        _context(subject, form=form, title=title, next=next_path(request)),
    )


@login_required
@require_http_methods(GET_POST)
def activity_schedule(request, partner_pk=None, customer_pk=None):
    """``?kind=call|meeting`` preselects the kind; ``?lead=<id>`` (a lead of this partner, from the lead's page) makes
    it a follow-up of that lead (activities.forms.ActivityFollowUpForm)."""
    return _create_view(
        request,
        subject_get_for_user(request.user, partner_pk=partner_pk, customer_pk=customer_pk),
        form_class=ActivityFollowUpForm,
        service=services.activity_schedule,
        title="Schedule a call or meeting",
        done_message="{kind} scheduled.",
        initial=lambda subject: follow_up_initial(partner=subject.partner, params=request.GET),
    )


@login_required
@require_http_methods(GET_POST)
def activity_remind(request, partner_pk=None, customer_pk=None):
    return _create_view(
        request,
        subject_get_for_user(request.user, partner_pk=partner_pk, customer_pk=customer_pk),
        form_class=ActivityRemindForm,
        service=services.activity_remind,
        title="Set a reminder",
        done_message="Reminder set.",
    )


@login_required
@require_http_methods(GET_POST)
def activity_log(request, partner_pk=None, customer_pk=None):
    return _create_view(
        request,
        subject_get_for_user(request.user, partner_pk=partner_pk, customer_pk=customer_pk),
        form_class=ActivityLogForm,
        service=services.activity_log,
        title="Log an activity",
        done_message="{kind} logged.",
        initial=lambda subject: log_initial(params=request.GET, **subject.service_kwargs()),
    )


def _close_view(request, subject: Subject, activity: Activity, *, form_class, service, title, done_message):
    if activity.status != Activity.Status.PLANNED:
        messages.error(request, f"This activity is already {activity.get_status_display().lower()}.")
        return redirect(next_path(request) or subject.detail_url)
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            service(activity=activity, by=request.user, outcome=form.cleaned_data["outcome"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done_message)
        return redirect(next_path(request) or subject.detail_url)
    return render(
        request,
        "activities/activity_close.html",
        _context(subject, activity=activity, form=form, title=title, next=next_path(request)),
    )


@login_required
@require_http_methods(GET_POST)
def activity_complete(request, pk, partner_pk=None, customer_pk=None):
    return _close_view(
        request,
        *_activity_get_for_user(request.user, pk, partner_pk=partner_pk, customer_pk=customer_pk),
        form_class=ActivityCompleteForm,
        service=services.activity_complete,
        title="Mark done",
        done_message="Marked done.",
    )


@login_required
@require_http_methods(GET_POST)
def activity_cancel(request, pk, partner_pk=None, customer_pk=None):
    return _close_view(
        request,
        *_activity_get_for_user(request.user, pk, partner_pk=partner_pk, customer_pk=customer_pk),
        form_class=ActivityCancelForm,
        service=services.activity_cancel,
        title="Cancel",
        done_message="Cancelled.",
    )


@login_required
@require_http_methods(GET_POST)
def activity_edit(request, pk, partner_pk=None, customer_pk=None):
    """Edit / reschedule a planned call, meeting or reminder (``services.activity_reschedule``); a done or cancelled
    one goes back with a message. 404 unless the user sees the partner (customer) and the activity is its."""
    subject, activity = _activity_get_for_user(request.user, pk, partner_pk=partner_pk, customer_pk=customer_pk)
    back = next_path(request) or subject.detail_url
    if activity.status != Activity.Status.PLANNED:
        status = activity.get_status_display().lower()
        messages.error(request, f"This activity is already {status}: it can't be changed.")
        return redirect(back)
    data = request.POST if request.method == "POST" else None
    form = activity_edit_form(activity=activity, data=data, **subject.service_kwargs())
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
        request, "activities/activity_form.html", _context(subject, form=form, title=title, next=next_path(request))
    )
