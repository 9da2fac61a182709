"""/api/v1/activities/: calls, meetings, reminders and logged engagements with partners and customers.

Reads go through ``activities.selectors.activities_visible_to`` (an activity is seen with its partner or customer,
as on the pages); writes through the services the pages use (``activities.services``: schedule, remind, log,
reschedule, complete, cancel), so the partner's or customer's last/next engagement and due date move in the same
transaction. A partner, customer, location or lead named in a body must be one the caller may see (else a 400 on
that field); an activity the caller may not see is a 404 on every verb.

Queries per list page with an API key: the key and its owner, the rate window, the owner's visibility, the page
(owner and closer joined) — 4, whatever the page.
"""

from datetime import timedelta

from django.urls import path, reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers

from activities import services
from activities.models import Activity
from activities.selectors import activities_visible_parts, activities_visible_to, activity_get_for_user
from api.resources import (
    READ_ERRORS,
    UPDATE_HEADERS,
    WRITE_ERRORS,
    WRITE_HEADERS,
    PageQuerySerializer,
    conflicts_as_409,
    id_field,
    page_candidates,
    page_response,
    page_serializer,
    query_params,
)
from api.serializers import AssigneeSerializer
from api.views import ApiView
from api.writes import api_write, etag_response, locked_for_update
from leads.customer_selectors import customers_visible_to
from leads.models import CustomerLocation
from leads.selectors import leads_visible_to
from partners.models import ContactPoint, Location
from partners.selectors import partner_visible_to

GRACE = timedelta(minutes=5)  # a time typed a moment ago still counts as "now" (as activities.forms)
MAX_MINUTES = 24 * 60


class ActivitySerializer(serializers.ModelSerializer):
    owner = AssigneeSerializer(allow_null=True, help_text="Whose activity it is (who scheduled or logged it).")
    closed_by = AssigneeSerializer(allow_null=True, help_text="Who marked it done or cancelled it.")
    state = serializers.CharField(source="status", help_text="planned, done or cancelled.")

    class Meta:
        model = Activity
        fields = [
            "id", "partner", "customer", "lead", "kind", "mode", "state", "subject", "start_at", "duration_minutes",
            "location", "place", "channel", "outcome", "owner", "closed_by", "completed_at", "sequence", "created_at",
            "updated_at",
        ]


ActivityPageSerializer = page_serializer("ActivityPageSerializer", ActivitySerializer)


class ActivityQuerySerializer(PageQuerySerializer):
    """The activity list's filters; invalid ones are a 400 naming the parameter."""

    partner = id_field(required=False, help_text="A partner's id.")
    customer = id_field(required=False, help_text="A customer's id.")
    owner = serializers.CharField(max_length=150, required=False, help_text="The owner's username.")
    kind = serializers.ChoiceField(choices=Activity.Kind.choices, required=False)
    mode = serializers.ChoiceField(choices=Activity.Mode.choices, required=False)
    state = serializers.ChoiceField(choices=Activity.Status.choices, required=False)
    starts_after = serializers.DateTimeField(required=False, help_text="Starting at or after (ISO 8601).")
    starts_before = serializers.DateTimeField(required=False, help_text="Starting before (ISO 8601).")


class ActivityCreateSerializer(serializers.Serializer):
    """Schedule a call or meeting (``mode`` scheduled), set a reminder (reminder) or log an engagement that happened
    (logged), with a partner or a customer (exactly one)."""

    partner = id_field(required=False, allow_null=True)
    customer = id_field(required=False, allow_null=True)
    mode = serializers.ChoiceField(choices=Activity.Mode.choices)
    kind = serializers.ChoiceField(
        choices=[(k, label) for k, label in Activity.Kind.choices if k != Activity.Kind.TASK], required=False,
        help_text="Scheduled: call or meeting; logged: any but task; a reminder has none.",
    )
    start_at = serializers.DateTimeField(help_text="When it is planned (not past), or when it happened (not future).")
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MAX_MINUTES, required=False, allow_null=True)
    location = id_field(required=False, allow_null=True, help_text="One of the partner's (customer's) locations.")
    place = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    outcome = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(choices=[("", "Unknown"), *ContactPoint.Channel.choices], required=False,
                                      allow_blank=True, default="", help_text="Logged: how it happened.")
    lead = id_field(required=False, allow_null=True, help_text="A lead of this partner the activity is about.")

    def validate(self, attrs):
        mode, errors = attrs["mode"], {}
        if (attrs.get("partner") is None) == (attrs.get("customer") is None):
            errors["partner"] = ["Give a partner or a customer (exactly one)."]
        if attrs.get("location") is not None and attrs["place"].strip():
            errors["place"] = ["Choose one of the locations or type a place, not both."]
        now = timezone.now()
        if mode == Activity.Mode.SCHEDULED:
            if attrs.get("kind") not in (Activity.Kind.CALL, Activity.Kind.MEETING):
                errors["kind"] = ["Only a call or a meeting can be scheduled."]
            if attrs["start_at"] < now - GRACE:
                errors["start_at"] = ["That time has passed: pick a future time, or log the activity instead."]
            if attrs.get("duration_minutes") is not None and attrs["duration_minutes"] < 5:
                errors["duration_minutes"] = ["Ensure this value is greater than or equal to 5."]
        elif mode == Activity.Mode.REMINDER:
            if not attrs["subject"].strip():
                errors["subject"] = ["Say what to be reminded of."]
            for name in ("kind", "duration_minutes", "location", "lead"):
                if attrs.get(name) is not None:
                    errors[name] = ["A reminder has none."]
            for name in ("place", "outcome", "channel"):
                if attrs[name]:
                    errors[name] = ["A reminder has none."]
        else:
            if not attrs.get("kind"):
                errors["kind"] = ["Say what kind of engagement it was."]
            if attrs["start_at"] > now + timedelta(minutes=1):
                errors["start_at"] = ["That is in the future: schedule it instead."]
            elif attrs["start_at"] > now:
                attrs["start_at"] = now
        if mode != Activity.Mode.LOGGED:
            for name in ("outcome", "channel"):
                if attrs[name] and name not in errors:
                    errors[name] = ["Only a logged activity has one (complete a planned one to record its outcome)."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ActivityUpdateSerializer(serializers.Serializer):
    """Reschedule or edit a planned call, meeting or reminder (the kind stays). Fields left out keep their value."""

    start_at = serializers.DateTimeField(required=False)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MAX_MINUTES, required=False, allow_null=True)
    location = id_field(required=False, allow_null=True)
    place = serializers.CharField(max_length=255, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs.get("location") is not None and (attrs.get("place") or "").strip():
            raise serializers.ValidationError({"place": ["Choose one of the locations or type a place, not both."]})
        return attrs


class ActivityCloseSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="",
                                    help_text="What happened, what is next (cancel: the reason, 500 characters).")


# --- Views ------------------------------------------------------------------------------------------------------------


class ActivityList(ApiView):
    scope_group = "activities"
    serializer_class = ActivitySerializer

    @extend_schema(
        operation_id="activities_list",
        parameters=[ActivityQuerySerializer],
        responses={200: ActivityPageSerializer, **READ_ERRORS},
        summary="Activities with partners and customers you may see, oldest change first, a page at a time.",
    )
    def get(self, request):
        params = query_params(request, ActivityQuerySerializer)
        queryset = Activity.objects.all()
        for name, lookup in (("partner", "partner_id"), ("customer", "customer_id"), ("owner", "owner__username"),
                             ("kind", "kind"), ("mode", "mode"), ("state", "status"),
                             ("starts_after", "start_at__gte"), ("starts_before", "start_at__lt"),
                             ("updated_since", "updated_at__gte")):
            if name in params:
                queryset = queryset.filter(**{lookup: params.pop(name)})
        parts = activities_visible_parts(request.user, queryset)
        queryset = page_candidates(queryset, parts, cursor=params.get("cursor"), limit=params["limit"])
        return page_response(queryset.select_related("owner", "closed_by"), params=params,
                             serializer_class=ActivitySerializer, narrowed=parts is not None)

    @extend_schema(
        operation_id="activities_create",
        request=ActivityCreateSerializer,
        parameters=WRITE_HEADERS,
        responses={201: ActivitySerializer, **WRITE_ERRORS},
        summary="Schedule a call or meeting, set a reminder, or log an engagement that happened.",
    )
    @api_write
    def post(self, request):
        body = ActivityCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        whom = _whom(request.user, partner_id=data.get("partner"), customer_id=data.get("customer"))
        location = _location(whom, data.get("location"))
        lead = _lead(request.user, whom, data.get("lead"))
        mode = data["mode"]
        if mode == Activity.Mode.REMINDER:
            activity = services.activity_remind(by=request.user, start_at=data["start_at"], subject=data["subject"],
                                                **whom)
        else:
            common = {
                "kind": data["kind"], "start_at": data["start_at"], "duration_minutes": data.get("duration_minutes"),
                "location": location, "place": data["place"].strip(), "subject": data["subject"].strip(),
                "lead": lead,
            }
            if mode == Activity.Mode.SCHEDULED:
                activity = services.activity_schedule(by=request.user, **whom, **common)
            else:
                activity = services.activity_log(by=request.user, outcome=data["outcome"], channel=data["channel"],
                                                 **whom, **common)
        return _answer(request, activity.pk, status=201)


class ActivityDetail(ApiView):
    scope_group = "activities"
    serializer_class = ActivitySerializer

    @extend_schema(operation_id="activities_retrieve", responses={200: ActivitySerializer, **READ_ERRORS})
    def get(self, request, pk: int):
        activity = activity_get_for_user(request.user, pk)
        return etag_response(ActivitySerializer(activity).data, obj=activity, request=request)

    @extend_schema(
        operation_id="activities_partial_update",
        request=ActivityUpdateSerializer,
        parameters=UPDATE_HEADERS,
        responses={200: ActivitySerializer, **WRITE_ERRORS},
        summary="Reschedule or edit a planned call, meeting or reminder (time, duration, place, subject).",
    )
    @api_write
    def patch(self, request, pk: int):
        activity = locked_for_update(request, activities_visible_to(request.user).select_related("partner", "customer"),
                                     pk=pk)
        body = ActivityUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        whom = {"partner": activity.partner} if activity.partner_id else {"customer": activity.customer}
        location = _location(whom, data["location"]) if "location" in data else activity.location
        if location is not None and "location" in data and "place" not in data:
            place = ""  # a location picked replaces a typed place
        else:
            place = data.get("place", activity.place)
        with conflicts_as_409():
            services.activity_reschedule(
                activity=activity, by=request.user, start_at=data.get("start_at", activity.start_at),
                duration_minutes=data.get("duration_minutes", activity.duration_minutes),
                subject=data.get("subject", activity.subject), place=place, location=location,
            )
        return _answer(request, activity.pk)


class ActivityComplete(ApiView):
    scope_group = "activities"
    serializer_class = ActivitySerializer

    @extend_schema(
        operation_id="activities_complete",
        request=ActivityCloseSerializer,
        parameters=UPDATE_HEADERS,
        responses={200: ActivitySerializer, **WRITE_ERRORS},
        summary="Mark a planned activity done, with its outcome (409 if it is no longer planned).",
    )
    @api_write
    def post(self, request, pk: int):
        activity = locked_for_update(request, activities_visible_to(request.user), pk=pk)
        body = ActivityCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with conflicts_as_409():
            services.activity_complete(activity=activity, by=request.user, outcome=body.validated_data["outcome"])
        return _answer(request, activity.pk)


class ActivityCancel(ApiView):
    scope_group = "activities"
    serializer_class = ActivitySerializer

    @extend_schema(
        operation_id="activities_cancel",
        request=ActivityCloseSerializer,
        parameters=UPDATE_HEADERS,
        responses={200: ActivitySerializer, **WRITE_ERRORS},
        summary="Cancel a planned activity, with a reason (409 if it is no longer planned).",
    )
    @api_write
    def post(self, request, pk: int):
        activity = locked_for_update(request, activities_visible_to(request.user), pk=pk)
        body = ActivityCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = body.validated_data["outcome"]
        if len(outcome) > 500:
            raise exceptions.ValidationError({"outcome": ["Keep the reason to 500 characters."]})
        with conflicts_as_409():
            services.activity_cancel(activity=activity, by=request.user, outcome=outcome)
        return _answer(request, activity.pk)


# --- Helpers ----------------------------------------------------------------------------------------------------------


def _whom(user, *, partner_id: int | None, customer_id: int | None) -> dict:
    """``{"partner": …}`` or ``{"customer": …}``: the one named, if ``user`` sees it (else a 400 on that field)."""
    if partner_id is not None:
        partner = partner_visible_to(user).filter(pk=partner_id).first()
        if partner is None:
            raise exceptions.ValidationError({"partner": ["No partner you may see has this id."]})
        return {"partner": partner}
    customer = customers_visible_to(user).filter(pk=customer_id).first()
    if customer is None:
        raise exceptions.ValidationError({"customer": ["No customer you may see has this id."]})
    return {"customer": customer}


def _location(whom: dict, location_id: int | None) -> Location | CustomerLocation | None:
    if location_id is None:
        return None
    if "partner" in whom:
        location = Location.objects.filter(partner=whom["partner"], pk=location_id).first()
    else:
        location = CustomerLocation.objects.filter(customer=whom["customer"], pk=location_id).first()
    if location is None:
        raise exceptions.ValidationError({"location": ["Not one of this partner's (customer's) locations."]})
    return location


def _lead(user, whom: dict, lead_id: int | None):
    if lead_id is None:
        return None
    partner = whom.get("partner")
    lead = leads_visible_to(user).filter(pk=lead_id).first() if partner is not None else None
    if lead is None or lead.partner_id != partner.pk:
        raise exceptions.ValidationError({"lead": ["Not a lead of this partner that you may see."]})
    return lead


def _answer(request, pk: int, *, status: int = 200):
    """The activity as saved, with its ETag (and Location when created)."""
    activity = activity_get_for_user(request.user, pk)
    headers = {"Location": reverse("api:activity", args=[pk])} if status == 201 else None
    return etag_response(ActivitySerializer(activity).data, obj=activity, status=status, headers=headers)


urlpatterns = [
    path("activities/", ActivityList.as_view(), name="activities"),
    path("activities/<int:pk>/", ActivityDetail.as_view(), name="activity"),
    path("activities/<int:pk>/complete", ActivityComplete.as_view(), name="activity-complete"),
    path("activities/<int:pk>/cancel", ActivityCancel.as_view(), name="activity-cancel"),
]
