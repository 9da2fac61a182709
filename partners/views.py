"""Partner pages. Reads through partners.selectors (visibility included), writes through partners.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from business.selectors import current_completion_for_partners, partner_business_context
from partners.forms import PartnerEditForms
from partners.selectors import (
    partner_get_for_user,
    partner_list_filter,
    partner_list_rows,
    partner_page,
    user_sees_all_partners,
)
from partners.services import (
    partner_create as partner_create_service,
)
from partners.services import (
    partner_save_contacts_and_locations,
    partner_set_status,
    partner_update,
)

PAGE_SIZE = 25
CONCURRENT_EDIT = "Someone else changed this partner's contacts or locations at the same time. Check and save again."


@login_required
@require_http_methods(["GET", "HEAD"])
def partner_list(request):
    filterset = partner_list_filter(user=request.user, data=request.GET)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    partners = partner_list_rows(page.object_list)  # one query: the page's rows with primary contacts and location
    completion = current_completion_for_partners([partner.pk for partner in partners])
    for partner in partners:
        partner.completion = completion.get(partner.pk)
    return render(
        request,
        "partners/partner_list.html",
        {
            "filterset": filterset,
            "page": page,
            "partners": partners,
            "sees_all": user_sees_all_partners(request.user),
            "filters_active": any(value for key, value in request.GET.items() if key not in ("sort", "page")),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def partner_detail(request, pk):
    partner = partner_get_for_user(request.user, pk)
    context = {"partner": partner, **partner_page(partner=partner)}
    context.update(partner_business_context(partner, parameter_code=request.GET.get("parameter")))
    return render(request, "partners/partner_detail.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def partner_create(request):
    forms = PartnerEditForms(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and forms.is_valid():
        try:
            with transaction.atomic():
                fields = forms.form.partner_fields()
                fields.setdefault("assigned_to", request.user)  # a rep's new partner is theirs
                partner = partner_create_service(
                    by=request.user,
                    status=forms.form.cleaned_data["status"],
                    status_reason=forms.form.cleaned_data["status_reason"].strip(),
                    **fields,
                )
                partner_save_contacts_and_locations(
                    partner=partner, contacts=forms.contacts.items(), locations=forms.locations.items()
                )
                forms.targets.save(partner=partner, by=request.user)
        except ValidationError as error:
            forms.add_error(error)
        except IntegrityError:
            forms.add_error(CONCURRENT_EDIT)
        else:
            messages.success(request, f"Partner “{partner.name}” added.")
            return redirect("partners:detail", pk=partner.pk)
    return render(request, "partners/partner_form.html", {"partner": None, **forms.context()})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def partner_edit(request, pk):
    partner = partner_get_for_user(request.user, pk)
    name = partner.name  # the form's validation writes into ``partner``; the heading keeps the saved name
    forms = PartnerEditForms(request.POST if request.method == "POST" else None, user=request.user, partner=partner)
    if request.method == "POST" and forms.is_valid():
        try:
            with transaction.atomic():
                locked = partner_get_for_user(request.user, pk, for_update=True)
                partner_update(
                    partner=locked, by=request.user, **forms.form.partner_fields(current_profile=locked.profile)
                )
                status = forms.form.cleaned_data["status"]
                reason = forms.form.cleaned_data["status_reason"].strip()
                if (status, reason) != (locked.status, locked.status_reason):
                    partner_set_status(partner=locked, status=status, reason=reason, by=request.user)
                partner_save_contacts_and_locations(
                    partner=locked, contacts=forms.contacts.items(), locations=forms.locations.items()
                )
                forms.targets.save(partner=locked, by=request.user)
        except ValidationError as error:
            forms.add_error(error)
        except IntegrityError:
            forms.add_error(CONCURRENT_EDIT)
        else:
            messages.success(request, f"Partner “{locked.name}” saved.")
            return redirect("partners:detail", pk=locked.pk)
    return render(request, "partners/partner_form.html", {"partner": partner, "partner_name": name, **forms.context()})
