"""/api/v1/customers/: customers (converted leads) with their contacts and locations; their editable fields.

Reads go through ``leads.customer_selectors.customers_visible_to`` (a rep: the customers assigned to them and those
of the partners they see; a manager: all); a customer is created only by converting its lead (/leads/{id}/convert).
PATCH saves through ``leads.customer_services.customer_save`` as the customer edit page does (fields, contacts and
locations in one transaction, the row locked), with the page's rules: only a manager reassigns a customer; phone
and email values are checked like the partner's contacts; one primary contact per kind and one primary location.

Queries per list page with an API key: the key and its owner, the rate window, the owner's visibility, the page
(segment and assignee joined), the page's contacts, their locations — 6, whatever the page.
"""

from django.db.models import Prefetch, Q
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers

from api.partner_writes import ContactPointWriteSerializer, LocationWriteSerializer, PartnerWriteSerializer
from api.resources import (
    READ_ERRORS,
    UPDATE_HEADERS,
    WRITE_ERRORS,
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
from leads.customer_selectors import customers_visible_parts, customers_visible_to
from leads.customer_services import customer_save
from leads.models import Customer, CustomerContact, CustomerLocation, CustomerSegment
from partners.forms import PHONE_RE
from partners.selectors import assignable_users, user_sees_all_partners

REP_ASSIGNS = "Only a manager reassigns customers."


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerSegment
        fields = ["id", "name", "engage_every_days"]


class CustomerContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerContact
        fields = ["id", "kind", "value", "label", "is_primary"]


class CustomerLocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerLocation
        fields = ["id", "label", "address", "latitude", "longitude", "is_primary"]


class CustomerSerializer(serializers.ModelSerializer):
    segment = SegmentSerializer(allow_null=True, help_text="Null: the default segment's frequency applies.")
    assigned_to = AssigneeSerializer(allow_null=True)
    contacts = CustomerContactSerializer(many=True)
    locations = CustomerLocationSerializer(many=True)

    class Meta:
        model = Customer
        fields = [
            "id", "name", "company", "email", "phone", "website", "description", "segment", "lead", "partner",
            "assigned_to", "last_engaged_at", "next_engagement_at", "engagement_due_at", "contacts", "locations",
            "created_at", "updated_at",
        ]


CustomerPageSerializer = page_serializer("CustomerPageSerializer", CustomerSerializer)


class CustomerQuerySerializer(PageQuerySerializer):
    q = serializers.CharField(max_length=200, required=False, help_text="Name or company contains (any case).")
    segment = id_field(required=False, help_text="A segment's id.")
    partner = id_field(required=False, help_text="The id of the partner who brought it.")
    assigned_to = serializers.CharField(max_length=150, required=False, help_text="The assignee's username.")
    overdue = serializers.BooleanField(required=False, help_text="true: only customers whose engagement is overdue.")


class CustomerContactWriteSerializer(ContactPointWriteSerializer):
    preferred_channel = None  # a partner's contact only


class CustomerWriteSerializer(PatchMixin, serializers.Serializer):
    """The fields to change. ``contacts`` / ``locations``, when given, replace the customer's lists (an item with
    the ``id`` of one of its rows keeps and updates that row; rows not listed are deleted)."""

    name = serializers.CharField(max_length=200)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    segment = id_field(required=False, allow_null=True, help_text="A segment's id; null: the default segment.")
    assigned_to = UserRefField(required=False, help_text="Managers only: an active rep's or manager's id or username.")
    contacts = CustomerContactWriteSerializer(many=True, required=False, max_length=100)
    locations = LocationWriteSerializer(many=True, required=False, max_length=100)

    validate_name = PartnerWriteSerializer.validate_name
    validate_locations = PartnerWriteSerializer.validate_locations

    def validate_phone(self, value):
        value = value.strip()
        if value and not PHONE_RE.match(value):
            raise serializers.ValidationError("Enter a phone number: digits, optionally starting with +.")
        return value

    def validate_contacts(self, items):
        items = [{**item, "preferred_channel": ""} for item in items]
        items = PartnerWriteSerializer.validate_contact_points(self, items)
        return [{key: value for key, value in item.items() if key != "preferred_channel"} for item in items]


def _with_related(queryset):
    return queryset.select_related("segment", "assigned_to").prefetch_related(
        Prefetch("contacts", queryset=CustomerContact.objects.order_by("kind", "-is_primary", "id")),
        Prefetch("locations", queryset=CustomerLocation.objects.order_by("-is_primary", "id")),
    )


def _customer_get(user, pk: int) -> Customer:
    customer = _with_related(customers_visible_to(user)).filter(pk=pk).first()
    if customer is None:
        raise exceptions.NotFound()
    return customer


class CustomerList(ApiView):
    scope_group = "customers"
    serializer_class = CustomerSerializer

    @extend_schema(
        operation_id="customers_list",
        parameters=[CustomerQuerySerializer],
        responses={200: CustomerPageSerializer, **READ_ERRORS},
        summary="Customers you may see with contacts and locations, oldest change first, a page at a time.",
    )
    def get(self, request):
        params = query_params(request, CustomerQuerySerializer)
        queryset = Customer.objects.all()
        q = " ".join(params.pop("q", "").split())
        if q:
            queryset = queryset.filter(Q(name__icontains=q) | Q(company__icontains=q))
        if params.pop("overdue", False):
            queryset = queryset.filter(engagement_due_at__lt=timezone.now())
        for name, lookup in (("segment", "segment_id"), ("partner", "partner_id"),
                             ("assigned_to", "assigned_to__username"), ("updated_since", "updated_at__gte")):
            if name in params:
                queryset = queryset.filter(**{lookup: params.pop(name)})
        parts = customers_visible_parts(request.user, queryset)
        queryset = page_candidates(queryset, parts, cursor=params.get("cursor"), limit=params["limit"])
        return page_response(_with_related(queryset), params=params, serializer_class=CustomerSerializer,
                             narrowed=parts is not None)


class CustomerDetail(ApiView):
    scope_group = "customers"
    serializer_class = CustomerSerializer

    @extend_schema(operation_id="customers_retrieve", responses={200: CustomerSerializer, **READ_ERRORS})
    def get(self, request, pk: int):
        customer = _customer_get(request.user, pk)
        return etag_response(CustomerSerializer(customer).data, obj=customer, request=request)

    @extend_schema(
        operation_id="customers_partial_update",
        request=CustomerWriteSerializer,
        parameters=UPDATE_HEADERS,
        responses={200: CustomerSerializer, **WRITE_ERRORS},
        summary="Change a customer's details, segment, assignee (managers), contacts and locations.",
    )
    @api_write
    def patch(self, request, pk: int):
        customer = locked_for_update(request, customers_visible_to(request.user).select_related("assigned_to"), pk=pk)
        body = CustomerWriteSerializer(data=request.data, patch=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        fields = {name: data[name] for name in ("name", "company", "email", "phone", "website", "description")
                  if name in data}
        if "segment" in data:
            segment = CustomerSegment.objects.filter(pk=data["segment"]).first() if data["segment"] else None
            if data["segment"] is not None and segment is None:
                raise exceptions.ValidationError({"segment": ["No segment has this id."]})
            fields["segment"] = segment
        if "assigned_to" in data:
            ref, current = data["assigned_to"], customer.assigned_to
            if user_sees_all_partners(request.user):
                fields["assigned_to"] = resolve_user(ref, among=assignable_users(), field="assigned_to",
                                                     message="No active rep or manager has this id or username.")
            elif ref != getattr(current, "pk", None) and ref != getattr(current, "username", None):
                raise exceptions.ValidationError({"assigned_to": [REP_ASSIGNS]})
        with conflicts_as_409():
            customer_save(
                customer=customer, by=request.user, fields=fields,
                contacts=_items(data, "contacts"), locations=_items(data, "locations"),
            )
        customer = _customer_get(request.user, pk)
        return etag_response(CustomerSerializer(customer).data, obj=customer)


def _items(data: dict, name: str) -> list[dict] | None:
    """A list to replace (each item with its ``id``, None for a new row), or None when the body leaves it alone."""
    return [{**item, "id": item.get("id")} for item in data[name]] if name in data else None


urlpatterns = [
    path("customers/", CustomerList.as_view(), name="customers"),
    path("customers/<int:pk>/", CustomerDetail.as_view(), name="customer"),
]
