"""/api/v1/deals/: deal registrations as the staff see them, with their history, and the vendor's decision.

Reads go through ``portal.deal_selectors.deals_visible_to`` (a rep: the registrations of the partners assigned to them;
a manager: all; drafts never); a registration the caller may not see is a 404 on every verb. The decision goes through
``portal.deal_services.deal_decide``, as the staff page's Approve / Reject / Return (the partner's rep or a manager,
a reason required, only while it waits for a decision: otherwise a 409).

Queries per list page with an API key: the key and its owner, the rate window, the owner's visibility, the page
(partner, reviewer and decider joined) — 4, whatever the page. The detail adds its history (one query).
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers

from api.resources import (
    READ_ERRORS,
    UPDATE_HEADERS,
    WRITE_ERRORS,
    Conflict,
    PageQuerySerializer,
    id_field,
    page_response,
    page_serializer,
    query_params,
)
from api.serializers import AssigneeSerializer
from api.views import ApiView
from api.writes import api_write, etag_response, locked_for_update
from portal import deal_services
from portal.deal_selectors import STAFF_STATUSES, deals_visible_to, history
from portal.models import DealEvent, DealRegistration


class DealPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class DealSerializer(serializers.ModelSerializer):
    number = serializers.CharField(help_text="The registration number partners see.")
    partner = DealPartnerSerializer()
    reviewer = AssigneeSerializer(allow_null=True)
    decided_by = AssigneeSerializer(allow_null=True)
    lead = serializers.IntegerField(source="lead_id", allow_null=True, help_text="The lead created on approval.")

    class Meta:
        model = DealRegistration
        fields = [
            "id", "number", "partner", "status", "stage", "company", "domain", "contact_name", "contact_email",
            "contact_phone", "country", "amount", "currency", "expected_close", "notes", "reviewer", "decided_by",
            "decided_at", "decision_reason", "lead", "submitted_at", "protection_expires_at", "extension_requested_at",
            "extension_granted_at", "extension_refused_at", "created_at", "updated_at",
        ]


class DealEventSerializer(serializers.ModelSerializer):
    by = AssigneeSerializer(allow_null=True)

    class Meta:
        model = DealEvent
        fields = ["status", "note", "at", "by"]


class DealDetailSerializer(DealSerializer):
    history = serializers.SerializerMethodField(help_text="Its steps, oldest first (the latest 100).")

    class Meta(DealSerializer.Meta):
        fields = [*DealSerializer.Meta.fields, "history"]

    @extend_schema_field(DealEventSerializer(many=True))
    def get_history(self, registration) -> list[dict]:
        return DealEventSerializer(self.context["history"], many=True).data


DealPageSerializer = page_serializer("DealPageSerializer", DealSerializer)


class DealQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=[(s, label) for s, label in DealRegistration.Status.choices
                                              if s in STAFF_STATUSES], required=False)
    partner = id_field(required=False, help_text="A partner's id.")
    submitted_after = serializers.DateTimeField(required=False, help_text="Submitted at or after (ISO 8601).")


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[(name, name) for name in deal_services.DECISIONS])
    reason = serializers.CharField(max_length=deal_services.REASON_MAX, allow_blank=True,
                                   help_text="Required: the partner reads it.")


def _related(queryset):
    return queryset.select_related("partner", "reviewer", "decided_by")


def _deal_get(user, pk: int) -> DealRegistration:
    registration = _related(deals_visible_to(user)).filter(pk=pk).first()
    if registration is None:
        raise exceptions.NotFound()
    return registration


def _detail(registration: DealRegistration, **kwargs):
    data = DealDetailSerializer(registration, context={"history": history(registration)}).data
    return etag_response(data, obj=registration, **kwargs)


class DealList(ApiView):
    scope_group = "deals"
    serializer_class = DealSerializer

    @extend_schema(
        operation_id="deals_list",
        parameters=[DealQuerySerializer],
        responses={200: DealPageSerializer, **READ_ERRORS},
        summary="Deal registrations of the partners you may see (no drafts), oldest change first (cursor).",
    )
    def get(self, request):
        params = query_params(request, DealQuerySerializer)
        queryset = deals_visible_to(request.user)
        for name, lookup in (("status", "status"), ("partner", "partner_id"), ("submitted_after", "submitted_at__gte"),
                             ("updated_since", "updated_at__gte")):
            if name in params:
                queryset = queryset.filter(**{lookup: params.pop(name)})
        return page_response(_related(queryset), params=params, serializer_class=DealSerializer)


class DealDetail(ApiView):
    scope_group = "deals"
    serializer_class = DealDetailSerializer

    @extend_schema(operation_id="deals_retrieve", responses={200: DealDetailSerializer, **READ_ERRORS})
    def get(self, request, pk: int):
        return _detail(_deal_get(request.user, pk), request=request)


class DealDecision(ApiView):
    scope_group = "deals"
    serializer_class = DecisionSerializer

    @extend_schema(
        operation_id="deals_decide",
        request=DecisionSerializer,
        parameters=UPDATE_HEADERS,
        responses={200: DealDetailSerializer, **WRITE_ERRORS},
        summary="Approve (creates the lead, starts the protection), reject or return a submitted registration.",
    )
    @api_write
    def post(self, request, pk: int):
        registration = locked_for_update(request, deals_visible_to(request.user), pk=pk)
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if registration.status != DealRegistration.Status.SUBMITTED:
            raise Conflict(f"This registration is {registration.get_status_display().lower()}: it is not waiting "
                           "for a decision.")
        try:
            deal_services.deal_decide(registration=registration, by=request.user, **body.validated_data)
        except PermissionDenied:
            raise exceptions.PermissionDenied("Only the partner's rep or a manager decides its registrations.") from None
        except DjangoValidationError as error:
            if hasattr(error, "error_dict"):
                raise
            raise Conflict(" ".join(error.messages)) from None
        return _detail(_deal_get(request.user, pk))


urlpatterns = [
    path("deals/", DealList.as_view(), name="deals"),
    path("deals/<int:pk>/", DealDetail.as_view(), name="deal"),
    path("deals/<int:pk>/decision", DealDecision.as_view(), name="deal-decision"),
]
