"""The resource library in the portal (/portal/library/): the shelves (categories holding something the partner may
see, with counts), the newest resources, search and tag filters; a category; a resource (an article rendered from
sanitised Markdown, a link or video opened in a new tab, a file to download); the download itself.

Every read goes through ``library.selectors.resources_visible_to`` with the viewer's partner
(``portal.selectors.portal_member``): a resource outside the partner's audience is a 404 on every verb — the same
answer as a missing one — and so is a category holding nothing the partner may see.
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from library import selectors
from library.markdown import render_markdown
from library.models import Resource
from library.resource_files import SAFE_TYPES, content_type_for
from library.services import resource_downloaded
from portal.selectors import portal_member


def _safe_url(url: str) -> str:
    """A link's address when it is http(s) (the service accepts nothing else; checked again where it becomes an href,
    so a row written some other way cannot put ``javascript:`` in a partner's page), else ""."""
    return url if (url or "").lower().startswith(("https://", "http://")) else ""


@login_required
@require_http_methods(["GET", "HEAD"])
def home(request):
    """The library: the shelves and the newest resources, or — with ``q`` and/or ``tag`` — the search results.

    Queries without a search (tests/library/test_library_views.py): session, user, membership, the categories, the
    visible counts per category, the newest resources, their tags, the tag chips, the bell (9). With a search:
    session, user, membership, a page of results, their tags, the tag chips, the bell (7)."""
    member = portal_member(request)
    partner = member.partner
    q = " ".join(request.GET.get("q", "").split())[: selectors.QUERY_MAX]
    chosen = selectors.tag_ids(request.GET.getlist("tag"))
    searching = bool(q or chosen)
    context = {"member": member, "q": q, "chosen_tags": chosen, "searching": searching}
    if searching:
        context["page"] = selectors.resource_search(partner=partner, q=q, tags=chosen, page=request.GET.get("page"))
    else:
        context["shelves"] = selectors.shelves(partner=partner)
        context["newest"] = selectors.newest_for(partner=partner)
    context["tags"] = selectors.tags_for(partner=partner)
    return render(request, "portal/library/home.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def category(request, pk):
    """Queries: session, user, membership, the category, its subcategories, the visible counts, a page of resources,
    their tags, the tag chips, the bell (10)."""
    member = portal_member(request)
    chosen = selectors.tag_ids(request.GET.getlist("tag"))
    found = selectors.category_page(partner=member.partner, pk=pk, tags=chosen, page=request.GET.get("page"))
    return render(request, "portal/library/category.html", {
        "member": member, "category": found.category, "children": found.children, "page": found.page,
        "chosen_tags": chosen, "tags": selectors.tags_for(partner=member.partner),
    })


@login_required
def resource(request, pk):
    """Queries: session, user, membership, the resource, its tags, the bell (6). Any other verb than GET/HEAD: 405
    for a resource the partner may see, 404 for any other."""
    member = portal_member(request)
    found = selectors.resource_get_for_partner(partner=member.partner, pk=pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render(request, "portal/library/resource.html", {
        "member": member, "resource": found,
        "article": render_markdown(found.body) if found.kind == Resource.Kind.ARTICLE else "",
        "safe_url": _safe_url(found.url),
    })


@login_required
def download(request, pk):
    """The file, as a download only: ``Content-Disposition: attachment``, ``X-Content-Type-Options: nosniff``, the
    type checked at upload (else ``application/octet-stream``; never HTML or SVG: those are never accepted), a
    sandboxing CSP, no shared caching. A GET counts one download. Outside the audience, not a file, or missing from
    the storage: 404 (on every verb)."""
    member = portal_member(request)
    found = selectors.resource_file_for_partner(partner=member.partner, pk=pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return file_response(found, count=request.method == "GET")


def file_response(found: Resource, *, count: bool) -> FileResponse:
    """Stream ``found``'s file as an attachment (shared with the staff's download)."""
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404("The file is missing.") from error
    content_type = content_type_for(found.file.name)
    if content_type not in SAFE_TYPES:
        content_type = "application/octet-stream"
    if count:
        resource_downloaded(resource=found)
    response = FileResponse(handle, as_attachment=True, filename=found.file_name or "download",
                            content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
