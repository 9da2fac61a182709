"""The portal's deal registration pages (/portal/deals/…): the partner's list, a new registration, editing a draft,
submitting it, a registration's page with its history, and the partner's steps (stage, extension, won, lost).

Every view starts from ``portal.selectors.portal_member`` and every id from ``deal_get_for_member``: another
partner's registration is a 404 on every verb. Views are form → service → redirect; a service's ValidationError
goes back onto the form (400), nothing written. Nothing of another partner is ever shown here: after a submit the
partner may only read "a registration for this company already exists" (portal.conflicts.shows_existing_notice).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal import deal_services as services
from portal.deal_forms import DealForm, LostForm, NoteForm, StageForm, new_form_token
from portal.deal_line_selectors import deal_line_rows, deal_lines, deal_lines_total, deal_product_choices
from portal.deal_line_services import deal_save_with_lines
from portal.deal_selectors import deal_get_for_member, deal_list_page_for_member, history
from portal.models import DealRegistration
from portal.selectors import portal_member

PAGE_SIZE = 25
GET_POST = ["GET", "HEAD", "POST"]
Status = DealRegistration.Status
EXISTING_NOTICE = "A registration for this company already exists: your channel account manager will check it."


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _detail_url(registration: DealRegistration) -> str:
    return reverse("portal:deal_detail", args=[registration.pk])


@login_required
@require_http_methods(["GET", "HEAD"])
def deal_list(request):
    """The partner's registrations, newest first, optionally of one status. Queries: session, user, membership (with
    partner and tier), the count with the page's ids, the rows."""
    member = portal_member(request)
    status = request.GET.get("status", "")
    if status not in ("", "open", *Status.values):
        status = ""
    page = deal_list_page_for_member(member, status=status, page=request.GET.get("page"), per_page=PAGE_SIZE)
    return render(request, "portal/deals/list.html", {
        "member": member, "page": page, "deals": page.rows, "status": status, "statuses": Status.choices,
    })


def _save_and_maybe_submit(request, member, form, registration=None):
    """Save the draft, then submit it when the "Submit" button was pressed. Returns a redirect, or None with the
    errors on ``form``."""
    lines, line_errors = _posted_lines(request)
    if line_errors:
        form.add_error(None, line_errors)
        return None
    try:
        # The product lines (issue 17) are priced and saved with the draft, in one transaction.
        saved = deal_save_with_lines(member=member, registration=registration,
                                     form_token=form.cleaned_data.get("form_token", "") if registration is None else "",
                                     lines=lines, **form.service_kwargs())
    except ValidationError as error:
        _add_errors(form, error)
        return None
    if request.POST.get("action") != "submit":
        messages.success(request, f"Draft {saved.number} saved.")
        return redirect(_detail_url(saved))
    try:
        result = services.deal_submit(registration=saved, member=member)
    except ValidationError as error:
        _add_errors(form, error)
        form.saved = saved  # the draft is kept: the page says so
        return None
    if not result.repeated:
        messages.success(request, f"Deal {saved.number} submitted. You will get a confirmation email.")
        if result.existing_notice:
            messages.warning(request, EXISTING_NOTICE)
    return redirect(_detail_url(saved))


MAX_POSTED_LINES = 50


def _posted_lines(request) -> tuple[list[tuple[str, int]] | None, list[str]]:
    """The product lines of the posted form (``line_sku`` / ``line_quantity``, in order; blank rows skipped), or None
    when the form had no lines section; and the errors naming each bad line."""
    if "line_sku" not in request.POST:
        return None, []
    skus, quantities = request.POST.getlist("line_sku"), request.POST.getlist("line_quantity")
    lines, errors = [], []
    for number, sku in enumerate(skus[:MAX_POSTED_LINES], start=1):
        sku = sku.strip()[:64]
        text = quantities[number - 1].strip() if number <= len(quantities) else ""
        if not sku and not text:
            continue
        if not sku:
            errors.append(f"Line {number}: choose a product (its SKU).")
            continue
        if not text:
            text = "1"
        if len(text) > 7 or not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 1_000_000:
            errors.append(f"Line {number}: the quantity must be a whole number from 1 to 1,000,000.")
            continue
        lines.append((sku, int(text)))
    if len(skus) > MAX_POSTED_LINES:
        errors.append(f"At most {MAX_POSTED_LINES} product lines.")
    return lines, errors


def _form_context(request, member, form, registration) -> dict:
    """The form page's context: the product lines (as posted, or the draft's) and the products to suggest."""
    if request.method == "POST" and "line_sku" in request.POST:
        rows = [{"sku": sku, "quantity": quantity} for sku, quantity in
                zip(request.POST.getlist("line_sku")[:MAX_POSTED_LINES], request.POST.getlist("line_quantity"),
                    strict=False)]
    else:
        rows = deal_line_rows(deal_lines(registration)) if registration is not None else []
    return {"member": member, "form": form, "registration": registration, "lines": rows,
            "products": deal_product_choices(member)}


@login_required
@require_http_methods(GET_POST)
def deal_new(request):
    member = portal_member(request)
    if request.method == "POST":
        form = DealForm(request.POST)
        if form.is_valid():
            done = _save_and_maybe_submit(request, member, form)
            if done:
                return done
        if not form.data.get("form_token"):
            form.data = form.data.copy()
            form.data["form_token"] = new_form_token()
    else:
        form = DealForm(initial={"form_token": new_form_token(), "currency": "EUR"})
    return render(request, "portal/deals/form.html", _form_context(request, member, form, None),
                  status=400 if form.is_bound else 200)


@login_required
@require_http_methods(GET_POST)
def deal_edit(request, pk):
    member = portal_member(request)
    registration = deal_get_for_member(member, pk)
    if registration.status not in (Status.DRAFT, Status.RETURNED):
        messages.info(request, f"This registration is {registration.get_status_display().lower()}: it can't be "
                               "changed.")
        return redirect(_detail_url(registration))
    if request.method == "POST":
        form = DealForm(request.POST)
        if form.is_valid():
            done = _save_and_maybe_submit(request, member, form, registration=registration)
            if done:
                return done
    else:
        form = DealForm(initial=DealForm.initial_from(registration))
    return render(request, "portal/deals/form.html", _form_context(request, member, form, registration),
                  status=400 if form.is_bound else 200)


def _detail(request, member, registration, *, status=200, **forms):
    context = {
        "member": member, "registration": registration, "history": history(registration),
        "lines": (lines := deal_lines(registration)), "lines_total": deal_lines_total(lines),  # issue 17 (one query)
        "review_days": settings.DEAL_REVIEW_DAYS,
        "can_edit": registration.status in (Status.DRAFT, Status.RETURNED),
        "stage_form": forms.get("stage_form") or StageForm(initial={"stage": registration.stage}),
        "extension_form": forms.get("extension_form") or NoteForm(prefix="extension"),
        "won_form": forms.get("won_form") or NoteForm(prefix="won"),
        "lost_form": forms.get("lost_form") or LostForm(),
        "submit_errors": forms.get("submit_errors") or [],
        # A refused step's errors that belong to no field (it was done already, it is closed): shown at the top,
        # since the step's own form may not be on the page any more.
        "action_errors": [error for form in forms.values() if hasattr(form, "non_field_errors")
                          for error in form.non_field_errors()],
    }
    return render(request, "portal/deals/detail.html", context, status=status)


@login_required
@require_http_methods(GET_POST)
def deal_detail(request, pk):
    """Queries: session, user, membership, the registration, its history (and the bell's count). A POST (nothing to
    post here) goes back to the page, after the same 404 check as every verb."""
    member = portal_member(request)
    registration = deal_get_for_member(member, pk)
    if request.method == "POST":
        return redirect(_detail_url(registration))
    return _detail(request, member, registration)


@login_required
@require_http_methods(GET_POST)
def deal_submit(request, pk):
    member = portal_member(request)
    registration = deal_get_for_member(member, pk)
    if request.method != "POST":
        return redirect(_detail_url(registration))
    try:
        result = services.deal_submit(registration=registration, member=member)
    except ValidationError as error:
        return _detail(request, member, registration, status=400, submit_errors=error.messages)
    if not result.repeated:
        messages.success(request, f"Deal {registration.number} submitted. You will get a confirmation email.")
        if result.existing_notice:
            messages.warning(request, EXISTING_NOTICE)
    return redirect(_detail_url(registration))


def _action(request, pk, *, form_class, form_name, prefix=None, act, done):
    """A partner's step on the registration page: validate, call the service, back to the page; errors re-render it
    (400). GET: the page."""
    member = portal_member(request)
    registration = deal_get_for_member(member, pk)
    if request.method != "POST":
        return redirect(_detail_url(registration))
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            changed = act(registration, member, form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        except PermissionDenied:
            raise Http404("not yours") from None
        else:
            if changed is not False:
                messages.success(request, done)
            return redirect(_detail_url(registration))
    return _detail(request, member, registration, status=400, **{form_name: form})


@login_required
@require_http_methods(GET_POST)
def deal_stage(request, pk):
    return _action(request, pk, form_class=StageForm, form_name="stage_form", done="Stage updated.",
                   act=lambda reg, member, data: services.deal_stage_set(registration=reg, member=member,
                                                                         stage=data["stage"]))


@login_required
@require_http_methods(GET_POST)
def deal_extension(request, pk):
    return _action(request, pk, form_class=NoteForm, prefix="extension", form_name="extension_form",
                   done="Extension requested: your channel account manager will answer.",
                   act=lambda reg, member, data: services.deal_extension_request(registration=reg, member=member,
                                                                                 note=data["note"]))


@login_required
@require_http_methods(GET_POST)
def deal_won(request, pk):
    return _action(request, pk, form_class=NoteForm, prefix="won", form_name="won_form",
                   done="Reported won: the vendor confirms it.",
                   act=lambda reg, member, data: services.deal_report_won(registration=reg, member=member,
                                                                          note=data["note"]))


@login_required
@require_http_methods(GET_POST)
def deal_lost(request, pk):
    return _action(request, pk, form_class=LostForm, form_name="lost_form", done="Reported lost.",
                   act=lambda reg, member, data: services.deal_report_lost(registration=reg, member=member,
                                                                           reason=data["reason"]))
