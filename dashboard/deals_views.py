"""The staff's deal registration pages, under /deals/ (URL names ``deals:…``): the review queue, a registration
with its candidate conflicts side by side, and the vendor's steps (approve / reject / return with a reason, grant or
refuse an extension, confirm or refuse a reported win).

Every id goes through ``portal.deal_selectors.deal_get_for_user``: a registration of a partner the user may not see
(``partners.selectors.partner_visible_to``'s rule) is a 404 on every verb. Writes are portal.deal_services'.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal import deal_services as services
from portal.conflicts import find_conflicts
from portal.deal_forms import ConfirmWonForm, DecisionForm, ExtensionDecisionForm, ReasonForm
from portal.deal_line_selectors import deal_lines, deal_lines_total
from portal.deal_selectors import STAFF_STATUSES, deal_get_for_user, history, review_queue_page
from portal.models import DealRegistration

PAGE_SIZE = 25
GET_POST = ["GET", "HEAD", "POST"]
Status = DealRegistration.Status
FILTERS = [("submitted", "Waiting for review"), ("open", "Open"), ("all", "All"),
           *[(value, label) for value, label in Status.choices if value in STAFF_STATUSES and value != "submitted"]]


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _back(registration: DealRegistration):
    return redirect(reverse("deals:detail", args=[registration.pk]))


@login_required
@require_http_methods(["GET", "HEAD"])
def deal_list(request):
    """The review queue: registrations of the partners the user sees, waiting for review by default, the user's own
    first, oldest first. Queries: session, user, visibility, the count with the page's ids, the rows."""
    status = request.GET.get("status", "submitted")
    if status not in dict(FILTERS):
        status = "submitted"
    page = review_queue_page(request.user, status=status, page=request.GET.get("page"), per_page=PAGE_SIZE)
    return render(request, "deals/list.html", {"page": page, "deals": page.rows, "status": status,
                                               "filters": FILTERS})


def _detail(request, registration, *, status=200, **forms):
    """The registration, its history, and its candidate conflicts (recomputed: other partners' open registrations,
    leads and customers by domain and name) next to it."""
    conflicts = []
    if registration.status in DealRegistration.OPEN:
        conflicts = find_conflicts(company=registration.company, domain=registration.domain,
                                   exclude_partner_id=registration.partner_id, exclude_registration_id=registration.pk)
    context = {
        "registration": registration, "history": history(registration), "conflicts": conflicts,
        "lines": (lines := deal_lines(registration)), "lines_total": deal_lines_total(lines),  # issue 17 (one query)
        "may_decide": services.may_decide(user=request.user, partner=registration.partner),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "extension_form": forms.get("extension_form") or ExtensionDecisionForm(prefix="extension"),
        "confirm_form": forms.get("confirm_form") or ConfirmWonForm(),
        "refuse_form": forms.get("refuse_form") or ReasonForm(prefix="refuse"),
        "extension_pending": (registration.status == Status.APPROVED and registration.extension_requested_at
                              and not registration.extension_granted_at and not registration.extension_refused_at),
        # A refused step's errors that belong to no field (decided already, …): its form may not be shown any more.
        "action_errors": [error for form in forms.values() if hasattr(form, "non_field_errors")
                          for error in form.non_field_errors()],
    }
    return render(request, "deals/detail.html", context, status=status)


@login_required
@require_http_methods(GET_POST)
def deal_detail(request, pk):
    """A POST (nothing to post here) goes back to the page, after the same 404 check as every verb."""
    registration = deal_get_for_user(request.user, pk)
    if request.method == "POST":
        return _back(registration)
    return _detail(request, registration)


def _action(request, pk, *, form_class, form_name, prefix=None, act, done):
    registration = deal_get_for_user(request.user, pk)
    if request.method != "POST":
        return _back(registration)
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            act(registration, form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        except PermissionDenied:
            raise Http404("not yours to decide") from None
        else:
            messages.success(request, done)
            return _back(registration)
    return _detail(request, registration, status=400, **{form_name: form})


@login_required
@require_http_methods(GET_POST)
def deal_decide(request, pk):
    return _action(request, pk, form_class=DecisionForm, form_name="decision_form", done="Decision sent to the partner.",
                   act=lambda reg, data: services.deal_decide(registration=reg, by=request.user,
                                                              decision=data["decision"], reason=data["reason"]))


@login_required
@require_http_methods(GET_POST)
def deal_extension(request, pk):
    return _action(request, pk, form_class=ExtensionDecisionForm, prefix="extension", form_name="extension_form",
                   done="Extension answered.",
                   act=lambda reg, data: services.deal_extension_decide(registration=reg, by=request.user,
                                                                        grant=data["grant"] == "grant",
                                                                        reason=data["reason"]))


@login_required
@require_http_methods(GET_POST)
def deal_confirm_won(request, pk):
    return _action(request, pk, form_class=ConfirmWonForm, form_name="confirm_form",
                   done="Win confirmed: the lead is converted.",
                   act=lambda reg, data: services.deal_confirm_won(registration=reg, by=request.user,
                                                                   value=data["value"]))


@login_required
@require_http_methods(GET_POST)
def deal_refuse_won(request, pk):
    return _action(request, pk, form_class=ReasonForm, prefix="refuse", form_name="refuse_form",
                   done="Win not confirmed: the deal is approved again.",
                   act=lambda reg, data: services.deal_refuse_won(registration=reg, by=request.user,
                                                                  reason=data["reason"]))
