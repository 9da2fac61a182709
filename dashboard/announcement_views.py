"""Staff: messages to partners (/announcements/): the list of announcements and "New message". Managers only
(``partners.selectors.user_sees_all_partners``; anyone else gets a 404, as the team page). Writes go through
``portal.announcement_services.announcement_publish``: form → service → redirect with a message."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from partners.selectors import user_sees_all_partners
from portal.announcement_forms import AnnouncementForm
from portal.announcement_services import announcement_publish
from portal.message_selectors import announcement_staff_page


def _manager_only(user) -> None:
    if not user_sees_all_partners(user):
        raise Http404


@login_required
@require_http_methods(["GET", "HEAD"])
def announcement_list(request):
    """Queries: session, user, the manager check, the page's announcements, their tiers (5)."""
    _manager_only(request.user)
    page = announcement_staff_page(page=request.GET.get("page"))
    return render(request, "announcements/list.html", {"page": page, "announcements": page.rows})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def announcement_create(request):
    _manager_only(request.user)
    form = AnnouncementForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            published = announcement_publish(by=request.user, **form.service_kwargs())
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error({"partners": "partner_codes"}.get(field, field) if field != "__all__" else None,
                               errors)
        else:
            if published.emailed:
                how = f"emailed to {published.recipients} partner users"
            elif published.recipients:
                how = (f"not emailed: more than {settings.ANNOUNCEMENT_EMAIL_MAX_RECIPIENTS} partner users — they "
                       "see it in the portal's bell and feed")
            else:
                how = "nobody in the audience has a portal account yet"
            messages.success(request, f"Message published to {published.partners} partners ({how}).")
            return redirect("announcements:list")
    return render(request, "announcements/form.html", {"form": form}, status=400 if form.errors else 200)
