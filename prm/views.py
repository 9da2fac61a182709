"""Project-level views that belong to no app."""

from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "HEAD"])
def healthz(request):
    """Liveness for load balancers and the throughput benchmark: "ok" after one ``SELECT 1``. No login, no session."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


@require_http_methods(["GET", "HEAD"])
def favicon(request):
    """``/favicon.ico``, which browsers and crawlers ask for whatever the page's ``<link rel="icon">`` says: a redirect
    to the SVG icon (a static file, hashed name in production), cacheable for a day. No session, no query."""
    response = HttpResponseRedirect(static("favicon.svg"))
    patch_cache_control(response, public=True, max_age=86_400)
    return response
