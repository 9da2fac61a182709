"""Project-level views that belong to no app."""

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "HEAD"])
def healthz(request):
    """Liveness for load balancers and the throughput benchmark: "ok" after one ``SELECT 1``. No login, no session."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")
