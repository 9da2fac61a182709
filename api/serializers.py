"""What the API returns (read-only for now) and the query parameters it accepts."""

from rest_framework import serializers

from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from partners.models import ContactPoint, Location, Partner, Tier


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["id", "name", "rank", "engage_every_days"]


class ContactPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPoint
        fields = ["id", "kind", "value", "label", "is_primary", "preferred_channel"]


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "label", "address", "latitude", "longitude", "is_primary"]


class AssigneeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class PartnerSerializer(serializers.ModelSerializer):
    tier = TierSerializer(allow_null=True)
    assigned_to = AssigneeSerializer(allow_null=True)
    contact_points = ContactPointSerializer(many=True)
    locations = LocationSerializer(many=True)

    class Meta:
        model = Partner
        fields = [
            "id", "code", "name", "kind", "tier", "status", "status_reason", "status_set_by", "status_changed_at",
            "assigned_to", "business_potential", "website", "country", "notes", "profile", "last_engaged_at",
            "next_engagement_at", "engagement_due_at", "contact_points", "locations", "created_at", "updated_at",
        ]


class PartnerPageSerializer(serializers.Serializer):
    results = PartnerSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as ?cursor= for the next page; null: done.")


class TierListSerializer(serializers.Serializer):
    results = TierSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class PartnerQuerySerializer(serializers.Serializer):
    """The partner list's query parameters; invalid ones are a 400 naming the parameter."""

    status = serializers.ChoiceField(choices=Partner.Status.choices, required=False)
    tier = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False, help_text="A tier's id.")
    assigned_to = serializers.CharField(max_length=150, required=False, help_text="The assignee's username.")
    q = serializers.CharField(max_length=200, required=False, help_text="Name, code, phone or email contains.")
    updated_since = serializers.DateTimeField(required=False, help_text="Only rows updated at or after (ISO 8601).")
    cursor = serializers.CharField(max_length=500, required=False, help_text="next_cursor of the previous page.")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, required=False)



class ProblemFieldSerializer(serializers.Serializer):
    field = serializers.CharField(help_text='Where: "name", "rows[3].value", "" for the whole request.')
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An error (RFC 9457, application/problem+json)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = ProblemFieldSerializer(many=True, required=False, help_text="Validation errors (400 only).")
