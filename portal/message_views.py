"""The portal's messages (/portal/messages/): the vendor's announcements the partner may see (unread first), one
announcement (opening it marks it read for this user), "mark all read", and the feed of what happened to the partner
(/portal/messages/feed/). Scoped by ``portal.selectors.portal_member``; an announcement the partner may not see is a
404 on every verb. The bell's count is ``portal.templating.portal_unread_messages``; the list pages hand it over
(``member._unread_messages``) when they know it, so it is not counted twice."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from portal.announcement_services import announcement_mark_read, announcements_mark_all_read
from portal.message_selectors import (
    announcement_get_for_member,
    announcement_list_page,
    feed_page,
    unread_announcements_count,
)
from portal.selectors import portal_member


@login_required
@require_http_methods(["GET", "HEAD"])
def message_list(request):
    """Queries: session, user, membership, the page's announcements with their read state (4); the unread count
    (the bell and the heading) comes from the page when it holds them all, else one more (5)."""
    member = portal_member(request)
    page = announcement_list_page(member=member, page=request.GET.get("page"))
    unread_on_page = sum(1 for row in page.rows if not row.is_read)
    if page.number == 1 and (unread_on_page < len(page.rows) or not page.has_next):
        unread = unread_on_page  # unread come first: the page holds them all
    else:
        unread = unread_announcements_count(member=member)
    member._unread_messages = unread
    response = render(request, "portal/messages/list.html", {
        "member": member, "page": page, "announcements": page.rows, "unread": unread,
    })
    add_never_cache_headers(response)  # read state changes: the back button must not show a stale list
    return response


@login_required
def message_detail(request, pk):
    """Opening marks it read for this user. Queries: session, user, membership, the announcement with its read state,
    the read mark when it was unread, the bell's count (6)."""
    member = portal_member(request)
    announcement = announcement_get_for_member(member, pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if not announcement.is_read:
        announcement_mark_read(announcement=announcement, member=member)
    response = render(request, "portal/messages/detail.html", {
        "member": member, "announcement": announcement, "safe_link": _safe_link(announcement.link),
    })
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def message_read_all(request):
    member = portal_member(request)
    if announcements_mark_all_read(member=member):
        messages.success(request, "All messages marked read.")
    return redirect("portal:messages")


@login_required
@require_http_methods(["GET", "HEAD"])
def feed(request):
    """Queries: session, user, membership, the page's events (4), and the bell's count (5)."""
    member = portal_member(request)
    page = feed_page(member=member, page=request.GET.get("page"))
    response = render(request, "portal/messages/feed.html", {"member": member, "page": page, "events": page.rows})
    add_never_cache_headers(response)
    return response


def _safe_link(link: str) -> str:
    """The announcement's link when it is http(s) (the service accepts nothing else; checked again where it becomes
    an href, so a row written some other way cannot put ``javascript:`` in a partner's page), else ""."""
    return link if link.lower().startswith(("https://", "http://")) else ""
