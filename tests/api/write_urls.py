"""Test-only endpoints for api.writes: a create and an update of partners through partners.services, so the
decorator is tested on a real write with the real services (the resource endpoints have their own tests)."""

import time

from django.urls import path
from rest_framework.response import Response

from api.views import ApiView
from api.writes import api_write, etag_response, locked_for_update
from partners.models import Partner
from partners.selectors import partner_visible_to
from partners.services import partner_create, partner_update


class Create(ApiView):
    @api_write
    def post(self, request):
        partner = partner_create(by=request.user, name=request.data.get("name", ""), code=request.data.get("code", ""))
        time.sleep(float(request.headers.get("X-Test-Sleep", "0")))  # holds the transaction open: concurrency test
        return Response({"id": partner.pk, "name": partner.name}, status=201, headers={"Location": f"/p/{partner.pk}"})


class Detail(ApiView):
    def get(self, request, pk: int):
        partner = partner_visible_to(request.user).get(pk=pk)
        return etag_response({"id": partner.pk, "name": partner.name}, obj=partner, request=request)

    @api_write
    def patch(self, request, pk: int):
        partner = locked_for_update(request, partner_visible_to(request.user), pk=pk)
        partner_update(partner=partner, by=request.user, name=request.data.get("name", partner.name))
        return etag_response({"id": partner.pk, "name": partner.name}, obj=partner)


urlpatterns = [
    path("api/v1/test-partners/", Create.as_view()),
    path("api/v1/test-partners/<int:pk>/", Detail.as_view()),
]

__all__ = ["Partner", "urlpatterns"]
