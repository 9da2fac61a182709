"""The notification list, the bell's unread count, and marking read. Every view reads and writes only the signed-in
user's notifications (someone else's: 404, on every verb)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from notifications.selectors import notification_get_for_user, notification_list_page, unread_count
from notifications.services import notification_mark_read as mark_read
from notifications.services import notifications_mark_all_read
from prm.http import next_path


@login_required
@require_http_methods(["GET", "HEAD"])
def notification_list(request):
    """Queries: the session, the user, the page's rows (3); the unread count comes from the rows' page when all
    unread fit on it, else one more (4)."""
    page = notification_list_page(user=request.user, page=request.GET.get("page"))
    unread_on_page = sum(1 for n in page.rows if n.read_at is None)
    # Unread rows come first: when the page has fewer unread than rows (or is the whole list), it holds them all.
    if page.number == 1 and (unread_on_page < len(page.rows) or not page.has_next):
        unread = unread_on_page
    else:
        unread = unread_count(user=request.user).count
    response = render(request, "notifications/notification_list.html", {
        "page": page, "notifications": page.rows, "unread": unread,
    })
    add_never_cache_headers(response)  # read state changes: the back button must not show a stale list
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def notification_unread_count(request):
    """``{"unread": n, "label": "3"}`` for static/js/bell.js (label "" for none, "99+" above 99). Queries: the
    session, the user, the capped count (3)."""
    count = unread_count(user=request.user)
    response = JsonResponse({"unread": count.count, "label": count.label})
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def notification_mark_read(request, pk):
    """POST: mark one read, then go to ``next`` (a path of this site: the notification's object when its title was
    clicked, or back to the list); default the list. Someone else's notification: 404 (also for GET)."""
    notification = notification_get_for_user(request.user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    mark_read(notification=notification, user=request.user)
    return redirect(next_path(request) or reverse("notifications:list"))


@login_required
@require_POST
def notification_mark_all_read(request):
    changed = notifications_mark_all_read(user=request.user)
    if changed:
        messages.success(request, _("All notifications marked read."))
    return redirect(next_path(request) or reverse("notifications:list"))
