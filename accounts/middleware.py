"""Staff whom the policy requires an authenticator app, signed in without one, reach only its set-up page (and
signing out) until they have one. Reads the session only: no query."""

from django.shortcuts import redirect

from accounts.signin import ENROL_KEY

OPEN = ("/accounts/", "/static/", "/healthz", "/favicon.ico")


class TotpEnrolmentMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(ENROL_KEY) and not request.path.startswith(OPEN):
            return redirect("account_two_factor")
        return self.get_response(request)
