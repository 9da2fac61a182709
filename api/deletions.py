"""/api/v1/deletions/: tombstones of rows the API listed and that were deleted since, so a sync can mirror deletions.

``?type=target`` (required) names the kind of row; ``since`` (ISO 8601) skips older ones; the list is cursor-paged by
(deleted_at, id), like the other lists by (updated_at, id). A tombstone is kept OUTBOX_TOMBSTONE_RETENTION_DAYS (90):
a client that syncs less often should read everything again.

Scope: the resource group of the type ("target"/"achievement" → figures:read, "lead" → leads:read, …). A tombstone
holds only the type, the id and when: nothing of the deleted row, so it is not narrowed to what the key's owner could
see (the row that would decide it is gone).

Queries per page with an API key: the key and its owner, the rate window, the page — 3, whatever the page.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, BadCursor, cursor_page
from api.resources import READ_ERRORS, page_serializer, query_params
from api.views import ApiView
from outbox.selectors import tombstones_of

# Subject types that can have tombstones, and the scope group whose ":read" lets a key read them.
TYPE_GROUPS = {
    "target": "figures",
    "achievement": "figures",
    "partner": "partners",
    "activity": "activities",
    "lead": "leads",
    "customer": "customers",
    "deal": "deals",
}


class DeletionQuerySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=sorted(TYPE_GROUPS), help_text="The kind of row deleted.")
    since = serializers.DateTimeField(required=False, help_text="Only rows deleted at or after (ISO 8601).")
    cursor = serializers.CharField(max_length=500, required=False, help_text="next_cursor of the previous page.")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, required=False)


class DeletionSerializer(serializers.Serializer):
    type = serializers.CharField(source="subject_type", help_text="The kind of row, as asked.")
    id = serializers.IntegerField(source="subject_id", help_text="The deleted row's id.")
    deleted_at = serializers.DateTimeField()


DeletionPageSerializer = page_serializer("DeletionPage", DeletionSerializer)


class DeletionList(ApiView):
    serializer_class = DeletionSerializer

    @property
    def scope_group(self) -> str | None:
        """The group of the asked type; an unknown or missing type needs no scope here and gets its 400 below."""
        return TYPE_GROUPS.get(self.request.query_params.get("type", ""))

    @extend_schema(
        operation_id="deletions_list",
        parameters=[DeletionQuerySerializer],
        responses={200: DeletionPageSerializer, **READ_ERRORS},
        summary="Rows of one type deleted since a time, oldest first, a page at a time (cursor): mirror deletions.",
    )
    def get(self, request):
        params = query_params(request, DeletionQuerySerializer)
        tombstones = tombstones_of(subject_type=params["type"], since=params.get("since"))
        try:
            page = cursor_page(tombstones, cursor=params.get("cursor"), limit=params["limit"], column="deleted_at")
        except BadCursor as error:
            raise exceptions.ValidationError({"cursor": [str(error)]}) from None
        return Response({"results": DeletionSerializer(page.rows, many=True).data, "next_cursor": page.next_cursor})


urlpatterns = [
    path("deletions/", DeletionList.as_view(), name="deletions"),
]
