"""The /api/v1/ endpoints (read-only for now): partners and tiers. Thin: query parameters → api.selectors →
serializer. Authentication, scopes, the rate limit and problem+json errors come from settings.REST_FRAMEWORK.

Queries per partner page with an API key (asserted in tests/api/test_partners.py): the key and its owner, the rate
window, the owner's visibility (managers), the page's partners (tier, assignee joined), their contact points, their
locations — 6, whatever the page. The last-used time adds an UPDATE at most once a minute per key.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from api.pagination import BadCursor, cursor_page
from api.selectors import api_partner_get, api_partners, api_tiers
from api.serializers import (
    PartnerPageSerializer,
    PartnerQuerySerializer,
    PartnerSerializer,
    ProblemSerializer,
    TierListSerializer,
    TierSerializer,
)

ERRORS = {(code, "application/problem+json"): ProblemSerializer for code in (400, 401, 403, 404, 405, 429)}


class ApiView(GenericAPIView):
    """Authentication, scopes (``scope_group``), the rate limit and errors: settings.REST_FRAMEWORK."""

    scope_group = "partners"


class PartnerList(ApiView):
    serializer_class = PartnerSerializer

    @extend_schema(
        operation_id="partners_list",
        parameters=[PartnerQuerySerializer],
        responses={200: PartnerPageSerializer, **ERRORS},
        summary="Partners you may see, oldest change first, a page at a time (cursor).",
    )
    def get(self, request):
        # A plain dict, not the QueryDict: DRF reads an empty form value as "absent"; here "?status=" is an error.
        query = PartnerQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        cursor, limit = params.pop("cursor", None), params.pop("limit")
        queryset = api_partners(user=request.user, **params)
        try:
            page = cursor_page(queryset, cursor=cursor, limit=limit)
        except BadCursor as error:
            raise exceptions.ValidationError({"cursor": [str(error)]}) from None
        return Response({
            "results": PartnerSerializer(page.rows, many=True).data,
            "next_cursor": page.next_cursor,
        })


class PartnerDetail(ApiView):
    serializer_class = PartnerSerializer

    @extend_schema(operation_id="partners_retrieve", responses={200: PartnerSerializer, **ERRORS})
    def get(self, request, pk: int):
        return Response(PartnerSerializer(api_partner_get(user=request.user, pk=pk)).data)


class TierList(ApiView):
    serializer_class = TierSerializer

    @extend_schema(operation_id="tiers_list", responses={200: TierListSerializer, **ERRORS})
    def get(self, request):
        return Response({"results": TierSerializer(api_tiers(), many=True).data, "next_cursor": None})


class NotFoundView(ApiView):
    """Anything else under /api/v1/ (an unknown path, a non-numeric id): 404 as problem+json, after authentication
    and scopes like any endpoint, so it reveals nothing to an unauthenticated caller."""

    scope_group = None

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound()

    post = put = patch = delete = get
