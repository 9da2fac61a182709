"""The wall between the portal and the staff pages.

A partner user reaches only the portal (``/portal/``), signing in and out, static files and the health check;
every other path — staff pages, the admin, the development mailbox — answers 404, as if it did not exist. Staff
reach every page but the portal's own (those 404 too, from ``portal.selectors.portal_member``).

Who is a partner user is read from the session (set at login by ``portal.apps``), so a request pays no query;
a session from before this middleware existed is classified once (one query) and remembered.
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect

from portal.selectors import PARTNER, SESSION_KIND, user_kind

OPEN_TO_PARTNER_USERS = ("/portal/", "/accounts/", "/static/", "/healthz", "/favicon.ico", "/i18n/")


class PartnerBoundaryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.open_prefixes = (*OPEN_TO_PARTNER_USERS, settings.STATIC_URL)

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(self.open_prefixes):
            kind = request.session.get(SESSION_KIND)
            if kind is None:
                kind = request.session[SESSION_KIND] = user_kind(user)
            if kind == PARTNER:
                if request.path in ("/", "/today/"):  # the staff's start page (LOGIN_REDIRECT_URL): their own is here
                    return redirect("portal:home")
                raise Http404("staff pages are not part of the portal")
        return self.get_response(request)
