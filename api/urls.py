"""/api/v1/ (URL names ``api:…``): the endpoints, the OpenAPI 3 schema and its docs page (Swagger UI from the
drf-spectacular-sidecar's static files; its start script is a separate file, so the Content-Security-Policy needs
no inline script)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from api import activities, customers, deals, figures, leads, views

app_name = "api"

urlpatterns = [
    path("partners/", views.PartnerList.as_view(), name="partners"),
    path("partners/<int:pk>/", views.PartnerDetail.as_view(), name="partner"),
    path("tiers/", views.TierList.as_view(), name="tiers"),
    *activities.urlpatterns,
    *leads.urlpatterns,
    *customers.urlpatterns,
    *deals.urlpatterns,
    *figures.urlpatterns,
    path("", include("api.deletions")),  # /api/v1/deletions/: tombstones (issue 16)
    path("openapi.json", SpectacularJSONAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]),
         name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny],
                                                       authentication_classes=[]), name="docs"),
    re_path(r"^[\s\S]*$", views.NotFoundView.as_view()),  # every other path: a problem+json 404, not the HTML page
]
