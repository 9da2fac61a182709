"""/api/v1/leads/: leads with their stage history, stage moves and conversion into a customer.

Reads go through ``leads.selectors.leads_visible_to`` (a rep: the leads assigned to them and those of the partners
they see; a manager: all), writes through ``leads.services`` as the lead pages do: create, edit, move to another
open stage, lose with a reason, convert (the customer is created in the same transaction, once). A lead the caller
may not see is a 404 on every verb; a partner or assignee named in a body must be one the caller may pick (the lead
form's rules: a rep assigns to themselves or keeps the current assignee or the partner's rep; a manager to any active
rep or manager).

Queries per list page with an API key: the key and its owner, the rate window, the owner's visibility, the page
(assignee and customer joined), the page's stage history (with who moved it) — 5, whatever the page.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from api.resources import (
    READ_ERRORS,
    UPDATE_HEADERS,
    WRITE_ERRORS,
    WRITE_HEADERS,
    Conflict,
    PageQuerySerializer,
    PatchMixin,
    UserRefField,
    conflicts_as_409,
    id_field,
    page_candidates,
    page_response,
    page_serializer,
    query_params,
    resolve_user,
)
from api.serializers import AssigneeSerializer
from api.views import ApiView
from api.writes import api_write, etag_response, locked_for_update
from leads import services
from leads.forms import assignee_queryset
from leads.models import Lead, LeadStageChange
from leads.selectors import leads_visible_parts, leads_visible_to
from partners.selectors import partner_visible_to

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}
ASSIGNEE_MESSAGE = "You may assign a lead to yourself, its current assignee or its partner's rep (managers: anyone)."


class StageChangeSerializer(serializers.ModelSerializer):
    changed_by = AssigneeSerializer(allow_null=True)

    class Meta:
        model = LeadStageChange
        fields = ["from_stage", "to_stage", "changed_at", "changed_by"]


class LeadSerializer(serializers.ModelSerializer):
    assigned_to = AssigneeSerializer(allow_null=True)
    customer = serializers.SerializerMethodField(help_text="The customer it was converted into (won leads).")
    stage_history = StageChangeSerializer(source="stage_changes", many=True, help_text="Oldest first.")

    class Meta:
        model = Lead
        fields = [
            "id", "name", "company", "email", "phone", "partner", "assigned_to", "stage", "expected_value", "value",
            "lost_reason", "created_at", "converted_at", "lost_at", "updated_at", "customer", "stage_history",
        ]

    def get_customer(self, lead) -> int | None:
        customer = getattr(lead, "customer", None)  # select_related: no query
        return customer.pk if customer is not None else None


LeadPageSerializer = page_serializer("LeadPageSerializer", LeadSerializer)


class LeadQuerySerializer(PageQuerySerializer):
    stage = serializers.ChoiceField(choices=Lead.Stage.choices, required=False)
    partner = id_field(required=False, help_text="A partner's id.")
    assigned_to = serializers.CharField(max_length=150, required=False, help_text="The assignee's username.")


class LeadWriteSerializer(PatchMixin, serializers.Serializer):
    """A new lead (POST: ``name`` required) or the fields to change (PATCH)."""

    name = serializers.CharField(max_length=200)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    partner = id_field(required=False, allow_null=True, help_text="The partner it came from (one you see); null: none.")
    assigned_to = UserRefField(required=False)
    expected_value = serializers.DecimalField(required=False, allow_null=True, **MONEY)

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        return value


class LeadStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=[(s, label) for s, label in Lead.Stage.choices if s != Lead.Stage.WON],
        help_text="An open stage (new, contacted, qualified), or lost (with the reason as note). To win: /convert.",
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                 help_text="Required for lost: why (kept as lost_reason). Other moves keep none.")


class LeadConvertSerializer(serializers.Serializer):
    value = serializers.DecimalField(required=False, allow_null=True, help_text="Revenue booked (default: expected).",
                                     **MONEY)


class LeadConvertedSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The new customer's id.")
    customer_url = serializers.CharField(help_text="/api/v1/customers/{id}/")
    lead = LeadSerializer()


# --- Reads ------------------------------------------------------------------------------------------------------------


def _with_related(queryset):
    return queryset.select_related("assigned_to", "customer").prefetch_related(
        Prefetch("stage_changes", queryset=LeadStageChange.objects.select_related("changed_by")
                 .order_by("changed_at", "id")),
    )


def _lead_get(user, pk: int) -> Lead:
    """The lead ``pk`` if ``user`` sees it (404 otherwise), with its assignee, customer and history."""
    lead = _with_related(leads_visible_to(user)).filter(pk=pk).first()
    if lead is None:
        raise exceptions.NotFound()
    return lead


class LeadList(ApiView):
    scope_group = "leads"
    serializer_class = LeadSerializer

    @extend_schema(
        operation_id="leads_list",
        parameters=[LeadQuerySerializer],
        responses={200: LeadPageSerializer, **READ_ERRORS},
        summary="Leads you may see with their stage history, oldest change first, a page at a time.",
    )
    def get(self, request):
        params = query_params(request, LeadQuerySerializer)
        queryset = Lead.objects.all()
        for name, lookup in (("stage", "stage"), ("partner", "partner_id"), ("assigned_to", "assigned_to__username"),
                             ("updated_since", "updated_at__gte")):
            if name in params:
                queryset = queryset.filter(**{lookup: params.pop(name)})
        parts = leads_visible_parts(request.user, queryset)
        queryset = page_candidates(queryset, parts, cursor=params.get("cursor"), limit=params["limit"])
        return page_response(_with_related(queryset), params=params, serializer_class=LeadSerializer,
                             narrowed=parts is not None)

    @extend_schema(
        operation_id="leads_create",
        request=LeadWriteSerializer,
        parameters=WRITE_HEADERS,
        responses={201: LeadSerializer, **WRITE_ERRORS},
        summary="Add a lead (assigned to you unless you say otherwise).",
    )
    @api_write
    def post(self, request):
        body = LeadWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        partner = _partner(request.user, data.pop("partner", None))
        kwargs = {name: data[name] for name in ("name", "company", "email", "phone", "expected_value") if name in data}
        keep = [partner.assigned_to_id if partner else None]
        kwargs["assigned_to"] = resolve_user(
            data.get("assigned_to"), among=assignee_queryset(user=request.user, keep=keep), field="assigned_to",
            message=ASSIGNEE_MESSAGE,
        )
        with conflicts_as_409():
            lead = services.lead_create(by=request.user, partner=partner, **kwargs)
        return _answer(request, lead.pk, status=201)


class LeadDetail(ApiView):
    scope_group = "leads"
    serializer_class = LeadSerializer

    @extend_schema(operation_id="leads_retrieve", responses={200: LeadSerializer, **READ_ERRORS})
    def get(self, request, pk: int):
        lead = _lead_get(request.user, pk)
        return etag_response(LeadSerializer(lead).data, obj=lead, request=request)

    @extend_schema(
        operation_id="leads_partial_update",
        request=LeadWriteSerializer,
        parameters=UPDATE_HEADERS,
        responses={200: LeadSerializer, **WRITE_ERRORS},
        summary="Change a lead's details, partner or assignee (its stage: /stage and /convert).",
    )
    @api_write
    def patch(self, request, pk: int):
        lead = locked_for_update(request, leads_visible_to(request.user).select_related("partner"), pk=pk)
        body = LeadWriteSerializer(data=request.data, patch=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        fields = {name: data[name] for name in ("name", "company", "email", "phone", "expected_value") if name in data}
        if "partner" in data:
            keep = lead.partner if lead.partner_id == data["partner"] else None
            fields["partner"] = keep or _partner(request.user, data["partner"])
        if "assigned_to" in data:
            partner = fields.get("partner", lead.partner)
            keep = [lead.assigned_to_id, partner.assigned_to_id if partner else None]
            fields["assigned_to"] = resolve_user(
                data["assigned_to"], among=assignee_queryset(user=request.user, keep=keep), field="assigned_to",
                message=ASSIGNEE_MESSAGE,
            )
        services.lead_update(lead=lead, by=request.user, **fields)
        return _answer(request, lead.pk)


class LeadStage(ApiView):
    scope_group = "leads"
    serializer_class = LeadSerializer

    @extend_schema(
        operation_id="leads_stage",
        request=LeadStageSerializer,
        parameters=UPDATE_HEADERS,
        responses={200: LeadSerializer, **WRITE_ERRORS},
        summary="Move an open lead to another open stage, or lose it with a reason (a history row each).",
    )
    @api_write
    def post(self, request, pk: int):
        lead = locked_for_update(request, leads_visible_to(request.user), pk=pk)
        body = LeadStageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        stage, note = body.validated_data["stage"], body.validated_data["note"].strip()
        try:
            if stage == Lead.Stage.LOST:
                services.lead_lose(lead=lead, by=request.user, reason=note)
            elif note:
                raise exceptions.ValidationError({"note": ["Only losing a lead keeps a note (its reason)."]})
            else:
                services.lead_move(lead=lead, to_stage=stage, by=request.user)
        except DjangoValidationError as error:
            _raise(error)
        return _answer(request, lead.pk)


class LeadConvert(ApiView):
    scope_group = "leads"
    serializer_class = LeadConvertedSerializer

    @extend_schema(
        operation_id="leads_convert",
        request=LeadConvertSerializer,
        parameters=UPDATE_HEADERS,
        responses={201: LeadConvertedSerializer, **WRITE_ERRORS},
        summary="Win an open lead: books its value and creates its customer, once (409 if it is closed).",
    )
    @api_write
    def post(self, request, pk: int):
        lead = locked_for_update(request, leads_visible_to(request.user), pk=pk)
        body = LeadConvertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            customer = services.lead_convert(lead=lead, by=request.user, value=body.validated_data.get("value"))
        except DjangoValidationError as error:
            _raise(error)
        url = reverse("api:customer", args=[customer.pk])
        lead = _lead_get(request.user, pk)
        data = {"customer": customer.pk, "customer_url": url, "lead": LeadSerializer(lead).data}
        return Response(data, status=201, headers={"Location": url})


# --- Helpers ----------------------------------------------------------------------------------------------------------


def _partner(user, partner_id: int | None):
    if partner_id is None:
        return None
    partner = partner_visible_to(user).filter(pk=partner_id).first()
    if partner is None:
        raise exceptions.ValidationError({"partner": ["No partner you may see has this id."]})
    return partner


def _raise(error: DjangoValidationError):
    """A service's refusal: of the whole request (the lead is closed) a 409; on a field a 400 (``reason`` is the
    body's ``note``)."""
    if not hasattr(error, "error_dict"):
        raise Conflict(" ".join(error.messages)) from error
    raise exceptions.ValidationError(
        {("note" if field == "reason" else field): messages for field, messages in error.message_dict.items()}
    ) from error


def _answer(request, pk: int, *, status: int = 200):
    """The lead as saved, with its ETag (and Location when created). Read without the visibility rule: the caller
    saw the row when it was locked, and a rep may hand a lead to its partner's rep (as the page allows), after which
    they no longer see it — the answer is still what they just saved."""
    lead = _with_related(Lead.objects.all()).get(pk=pk)
    headers = {"Location": reverse("api:lead", args=[pk])} if status == 201 else None
    return etag_response(LeadSerializer(lead).data, obj=lead, status=status, headers=headers)


urlpatterns = [
    path("leads/", LeadList.as_view(), name="leads"),
    path("leads/<int:pk>/", LeadDetail.as_view(), name="lead"),
    path("leads/<int:pk>/stage", LeadStage.as_view(), name="lead-stage"),
    path("leads/<int:pk>/convert", LeadConvert.as_view(), name="lead-convert"),
]
