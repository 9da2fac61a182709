"""The /api/v1/ partner and tier endpoints. Thin: query parameters → api.selectors → serializer; a body →
api.partner_writes (the page's rules) → partners.services.partner_save. Authentication, scopes, the rate limit and
problem+json errors come from settings.REST_FRAMEWORK; writes are one transaction with Idempotency-Key replays and
If-Match (api.writes). The other resources: api/activities.py, api/leads.py, api/customers.py, api/deals.py,
api/figures.py.

Queries per partner page with an API key (asserted in tests/api/test_partners.py): the key and its owner, the rate
window, the owner's visibility (managers), the page's partners (tier, assignee joined), their contact points, their
locations — 6, whatever the page. The last-used time adds an UPDATE at most once a minute per key.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from api.pagination import BadCursor, cursor_page
from api.partner_writes import PartnerWriteSerializer, partner_save_kwargs
from api.resources import UPDATE_HEADERS, WRITE_ERRORS, WRITE_HEADERS, conflicts_as_409
from api.selectors import api_partner_get, api_partners, api_tiers
from api.serializers import (
    PartnerPageSerializer,
    PartnerQuerySerializer,
    PartnerSerializer,
    ProblemSerializer,
    TierListSerializer,
    TierSerializer,
)
from api.writes import api_write, etag_response, locked_for_update
from partners.selectors import partner_visible_to
from partners.services import partner_save

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

    @extend_schema(
        operation_id="partners_create",
        request=PartnerWriteSerializer,
        parameters=WRITE_HEADERS,
        responses={201: PartnerSerializer, **WRITE_ERRORS},
        summary="Add a partner (with contact points and locations), as the partner form does.",
    )
    @api_write
    def post(self, request):
        body = PartnerWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        kwargs = partner_save_kwargs(data=body.validated_data, user=request.user, partner=None)
        with conflicts_as_409():
            partner = partner_save(partner=None, by=request.user, **kwargs)
        return _partner_answer(request, partner.pk, status=201)


class PartnerDetail(ApiView):
    serializer_class = PartnerSerializer

    @extend_schema(operation_id="partners_retrieve", responses={200: PartnerSerializer, **ERRORS})
    def get(self, request, pk: int):
        partner = api_partner_get(user=request.user, pk=pk)
        return etag_response(PartnerSerializer(partner).data, obj=partner, request=request)

    @extend_schema(
        operation_id="partners_partial_update",
        request=PartnerWriteSerializer,
        parameters=UPDATE_HEADERS,
        responses={200: PartnerSerializer, **WRITE_ERRORS},
        summary="Change a partner: fields, tier, assignee (managers), status with a reason, contacts, locations.",
    )
    @api_write
    def patch(self, request, pk: int):
        partner = locked_for_update(request, partner_visible_to(request.user).select_related("assigned_to"), pk=pk)
        body = PartnerWriteSerializer(data=request.data, patch=True)
        body.is_valid(raise_exception=True)
        kwargs = partner_save_kwargs(data=body.validated_data, user=request.user, partner=partner)
        with conflicts_as_409():
            partner_save(partner=partner, by=request.user, **kwargs)
        return _partner_answer(request, partner.pk)


def _partner_answer(request, pk: int, *, status: int = 200):
    """The partner as saved (re-read with its contacts and locations), with its ETag (and Location when created)."""
    partner = api_partner_get(user=request.user, pk=pk)
    headers = {"Location": reverse("api:partner", args=[pk])} if status == 201 else None
    return etag_response(PartnerSerializer(partner).data, obj=partner, status=status, headers=headers)


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
