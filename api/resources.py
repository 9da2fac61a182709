"""What the resource modules (api/activities.py, api/leads.py, api/customers.py and the partner writes of api/views.py)
share: reading a list's query parameters, one cursor page as a response, references to rows in a request body
(ids, users by id or username), and the errors each kind of operation documents."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import F, Q, QuerySet, Subquery
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, BadCursor, cursor_decode, cursor_page, opaque_order
from api.serializers import ProblemSerializer
from prm import pg

MAX_ID = 2**63 - 1  # bigint: a bigger id is "no such row", never a database error

_PROBLEM = "application/problem+json"
READ_ERRORS = {(code, _PROBLEM): ProblemSerializer for code in (400, 401, 403, 404, 405, 429)}
# Writes add: 409 (the record's state refuses it: a lead already won, an activity already done), 412 (If-Match names
# an older version), 413 (body too large) and 422 (Idempotency-Key reused).
WRITE_ERRORS = {
    (code, _PROBLEM): ProblemSerializer for code in (400, 401, 403, 404, 405, 409, 412, 413, 422, 429)
}
WRITE_HEADERS = [
    OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                     description="Retries with the same key get the first answer (24 h); another body: 422."),
]
UPDATE_HEADERS = [
    *WRITE_HEADERS,
    OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                     description="The ETag you read: the update is refused (412) if the record changed since."),
]


class Conflict(exceptions.APIException):
    """The record's state refuses the request (a closed lead moved, a done activity completed again): 409."""

    status_code = 409
    default_detail = "The record's state does not allow this."
    default_code = "conflict"


class conflicts_as_409:
    """Around a service call: a refusal of the whole request (a Django ValidationError without fields: "This lead is
    already won") and a write that collided with another at the same time (an IntegrityError from a unique or
    one-primary constraint) become a 409, never a 500. Use outside the service's own transaction (its savepoint is
    rolled back by then)."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, DjangoValidationError) and not hasattr(error, "error_dict"):
            raise Conflict(" ".join(error.messages)) from error
        if isinstance(error, IntegrityError):
            raise Conflict("Someone else changed this record at the same time: read it again and retry.") from error
        return False


def id_field(**kwargs) -> serializers.IntegerField:
    """A row id in a body or a query (1 … bigint max)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class PatchMixin:
    """A body serializer for POST and PATCH: ``patch=True`` makes every top-level field optional (what is left out
    keeps its value). Not DRF's ``partial``, which also skips the required fields and defaults of nested items: a
    contact given in a PATCH is still a whole contact."""

    def __init__(self, *args, patch: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if patch:
            for field in self.fields.values():
                field.required = False


class PageQuerySerializer(serializers.Serializer):
    """The parameters every list takes: ``updated_since``, ``cursor`` and ``limit``."""

    updated_since = serializers.DateTimeField(required=False, help_text="Only rows updated at or after (ISO 8601).")
    cursor = serializers.CharField(max_length=500, required=False, help_text="next_cursor of the previous page.")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, required=False)


def query_params(request, serializer_class: type[serializers.Serializer]) -> dict:
    """The list's validated query parameters (400 naming the parameter otherwise). A plain dict, not the QueryDict:
    DRF reads an empty form value as "absent"; here "?stage=" is an error."""
    query = serializer_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def page_candidates(queryset: QuerySet, parts: list[QuerySet] | None, *, cursor: str | None, limit: int) -> QuerySet:
    """The rows of one cursor page to come, narrowed before ``page_response`` orders and cuts them. ``parts`` is a
    visibility selector's scope as the querysets whose union it is (``activities_visible_parts``,
    ``leads_visible_parts``, ``customers_visible_parts``), None when the caller sees every row of ``queryset`` (then
    ``queryset`` as it is: the page walks the (updated_at, id) index). A rep's scope is a union of parts (their
    assigned rows, their partners' rows, …); each part is cut to its next ``limit + 1`` rows after the cursor on its
    own (column, updated_at, id) index *before* the union, so a page reads a few hundred index entries instead of the
    heap rows of everything the rep may see (7,000 activities for a rep with 243 partners: 110-300 → 10 ms). The
    global next ``limit + 1`` rows are among these (a row among them is among its own part's next ``limit + 1``).
    Still one statement."""
    if parts is None:
        return queryset
    if cursor:
        try:
            when, pk = cursor_decode(cursor)
        except BadCursor as error:
            raise exceptions.ValidationError({"cursor": [str(error)]}) from None
        # The OR for the cursor (a row comparison cannot be named through the subquery's alias), with the plain
        # bound that gives the index its start.
        after = Q(updated_at__gte=when) & (Q(updated_at__gt=when) | Q(updated_at=when, pk__gt=pk))
        parts = [part.filter(after) for part in parts]
    # Each part is ordered by an expression, not the columns: the planner cannot then walk the table's global
    # (updated_at, id) index hoping to meet the part's rows early — with many rows sharing one updated_at (a bulk
    # upsert writes 100k of them) it estimated 1 row past the cursor and read 40k to keep a rep's 101 (90 ms) —; it
    # reads the part's own rows on its (column, updated_at, id) index and sorts those (a rep's few thousand: ms).
    first, *rest = [part.order_by(opaque_order(), "id").values("pk")[: limit + 1] for part in parts]
    # The candidates' ids as an array (an InitPlan run once), read by primary key.
    return queryset.model.objects.filter(pg.AnyOf(F("pk"), Subquery(first.union(*rest) if rest else first)))


def page_response(queryset: QuerySet, *, params: dict, serializer_class: type[serializers.Serializer],
                  context: dict | None = None, narrowed: bool = False) -> Response:
    """One page of ``queryset`` after ``params["cursor"]`` in (updated_at, id) order: ``{"results", "next_cursor"}``.
    ``params`` (from ``query_params``) loses its ``cursor`` and ``limit``. ``narrowed``: ``queryset`` came from
    ``page_candidates`` with parts (see ``cursor_page``)."""
    cursor, limit = params.pop("cursor", None), params.pop("limit", DEFAULT_LIMIT)
    try:
        page = cursor_page(queryset, cursor=cursor, limit=limit, narrowed=narrowed)
    except BadCursor as error:
        raise exceptions.ValidationError({"cursor": [str(error)]}) from None
    return Response({
        "results": serializer_class(page.rows, many=True, context=context or {}).data,
        "next_cursor": page.next_cursor,
    })


def page_serializer(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The schema of a list's answer: ``{"results": [item…], "next_cursor": str | null}``."""
    return type(name, (serializers.Serializer,), {
        "results": item(many=True),
        "next_cursor": serializers.CharField(allow_null=True, help_text="Pass as ?cursor= for the next page; null: done."),
    })


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}],
                      "nullable": True, "description": "A user's id or username."})
class UserRefField(serializers.Field):
    """A user named by id (an integer, or digits) or by username; the value is the reference, resolved against the
    users the caller may pick by ``resolve_user``."""

    default_error_messages = {"invalid": "Give a user's id or username."}

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str):
            data = data.strip()
            if data.isdigit() and data.isascii() and len(data) <= 19:
                data = int(data)
            elif not data or len(data) > 150 or "\x00" in data:
                self.fail("invalid")
        if isinstance(data, int) and not 1 <= data <= MAX_ID:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


def resolve_user(ref: int | str | None, *, among: QuerySet, field: str, message: str):
    """The user ``ref`` (id or username) among ``among`` (whom the caller may pick), or a 400 on ``field``."""
    if ref is None:
        return None
    users = among.filter(pk=ref) if isinstance(ref, int) else among.filter(username=ref)
    user = users.first()
    if user is None:
        raise exceptions.ValidationError({field: [message]})
    return user
