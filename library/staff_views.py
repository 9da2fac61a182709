"""Staff: the resource library (/library/): the list with filters, a new resource and its edit page (upload),
publish / unpublish, the categories and the tags. Managers and reps who see every partner
(``partners.selectors.user_sees_all_partners``) manage it; anyone else gets a 404. Views are form → service →
redirect: a service's ValidationError goes back onto the form next to its field (400), with nothing written."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from library import selectors, services
from library.models import Category, Tag
from library.portal_views import file_response
from library.resource_files import describe_allowed, max_bytes
from library.resource_forms import CategoryForm, ResourceForm, StaffFilterForm, TagForm
from partners.selectors import user_sees_all_partners
from service.attachments import megabytes

GET_POST = ["GET", "HEAD", "POST"]
UPLOAD_SLACK = 1024 * 1024  # multipart overhead and the form's other fields


def _staff_only(user) -> None:
    if not user_sees_all_partners(user):
        raise Http404


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = {"partners": "partner_codes"}.get(field, field)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _told_message(told) -> str:
    if told is None:
        return ""
    if told.notified:
        how = f"{told.recipients} partner users notified"
    elif told.recipients:
        how = "too many partner users to notify one by one: they see it in the portal's feed"
    else:
        how = "nobody in the audience has a portal account yet"
    return f" Published to {told.partners} partners ({how})."


@login_required
@require_http_methods(["GET", "HEAD"])
def resource_list(request):
    """Queries: session, user, the staff check, the filter's categories and tags, a page of resources, their tags."""
    _staff_only(request.user)
    form = StaffFilterForm(request.GET or None)
    page = selectors.resource_staff_page(filters=form.filters() if request.GET else {}, page=request.GET.get("page"))
    return render(request, "library/list.html", {"form": form, "page": page, "resources": page.rows})


def _oversized(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > max_bytes() + UPLOAD_SLACK
    except ValueError:
        return False


def _resource_form(request, resource=None):
    _staff_only(request.user)
    if request.method == "POST" and _oversized(request):
        form = ResourceForm(resource=resource)  # the body is never read
        return _render_form(request, form, resource, status=413,
                            error=f"The file is too large: the limit is {megabytes(max_bytes())}.")
    form = ResourceForm(request.POST or None, request.FILES or None, resource=resource)
    if request.method == "POST" and form.is_valid():
        publish = True if "publish" in request.POST else None
        try:
            saved = services.resource_save(resource=resource, by=request.user, publish=publish, **form.service_kwargs())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"“{saved.resource.title}” saved.{_told_message(saved.told)}")
            return redirect("library_staff:edit", saved.resource.pk)
    return _render_form(request, form, resource, status=400 if form.errors else 200)


def _render_form(request, form, resource, *, status, error=""):
    return render(request, "library/form.html", {
        "form": form, "resource": resource, "max_upload": megabytes(max_bytes()), "allowed": describe_allowed(),
        "request_error": error,
    }, status=status)


@login_required
@require_http_methods(GET_POST)
def resource_create(request):
    return _resource_form(request)


@login_required
@require_http_methods(GET_POST)
def resource_edit(request, pk):
    _staff_only(request.user)
    return _resource_form(request, selectors.resource_get_for_staff(pk=pk))


@login_required
@require_POST
def resource_publish(request, pk):
    _staff_only(request.user)
    resource = selectors.resource_get_for_staff(pk=pk)
    told = services.resource_publish(resource=resource, by=request.user)
    if told is None:
        messages.info(request, "It was already published.")
    else:
        messages.success(request, f"“{resource.title}” published.{_told_message(told)}")
    return redirect("library_staff:edit", pk)


@login_required
@require_POST
def resource_unpublish(request, pk):
    _staff_only(request.user)
    resource = selectors.resource_get_for_staff(pk=pk)
    if services.resource_unpublish(resource=resource, by=request.user):
        messages.success(request, f"“{resource.title}” is hidden from partners.")
    return redirect("library_staff:edit", pk)


@login_required
@require_http_methods(["GET", "HEAD"])
def resource_download(request, pk):
    """Staff check a file: the same attachment response as the portal's, not counted."""
    _staff_only(request.user)
    resource = selectors.resource_get_for_staff(pk=pk)
    if not resource.file:
        raise Http404("no file")
    return file_response(resource, count=False)


# --- Categories and tags ------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(GET_POST)
def categories(request, pk=None):
    """The categories (tree of two levels) with a form: new, or editing ``pk``."""
    _staff_only(request.user)
    category = get_object_or_404(Category, pk=pk) if pk else None
    form = CategoryForm(request.POST or None, category=category)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.category_save(category=category, **form.service_kwargs())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Category “{saved.name}” saved.")
            return redirect("library_staff:categories")
    return render(request, "library/categories.html", {
        "form": form, "category": category, "categories": selectors.categories_for_staff(),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def category_delete(request, pk):
    _staff_only(request.user)
    category = get_object_or_404(Category, pk=pk)
    try:
        services.category_delete(category=category)
    except ValidationError as error:
        messages.error(request, f"“{category.name}” was not deleted: {' '.join(error.messages)}")
    else:
        messages.success(request, f"Category “{category.name}” deleted.")
    return redirect("library_staff:categories")


@login_required
@require_http_methods(GET_POST)
def tags(request, pk=None):
    _staff_only(request.user)
    tag = get_object_or_404(Tag, pk=pk) if pk else None
    initial = {"kind": tag.kind, "name": tag.name} if tag else None
    form = TagForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.tag_save(tag=tag, **form.service_kwargs())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Tag “{saved.name}” saved.")
            return redirect("library_staff:tags")
    return render(request, "library/tags.html", {"form": form, "tag": tag, "tags": selectors.tags_for_staff()},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def tag_delete(request, pk):
    _staff_only(request.user)
    tag = get_object_or_404(Tag, pk=pk)
    services.tag_delete(tag=tag)
    messages.success(request, f"Tag “{tag.name}” deleted.")
    return redirect("library_staff:tags")
