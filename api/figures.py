"""/api/v1/ parameters, targets and achievements (scope group "figures"), and their bulk upserts.

Reads apply ``business.selectors.figures_visible_parts`` (the targets and achievements of the partners the caller
may see: partners.selectors' rule) through ``api.resources.page_candidates``, so a rep's page reads their partners'
rows on the (partner, updated_at, id) indexes. Lists are cursor pages by (updated_at, id) (indexes ``*_updated_idx``).

The bulk upserts (``POST /targets/bulk``, ``/achievements/bulk``) send ``{"rows": [{partner_code, parameter, period,
value}, …]}`` (at most ``BULK_MAX_ROWS``) through ``business.imports.import_period_rows``: the CSV import's own
validation, staging table (COPY), SQL checks and upsert, in the request's transaction — all rows or none. Every error
is a problem+json 400 entry ``rows[<index>].<field>`` (the first ``MAX_ERRORS``, then how many more). Achievements
are recorded with source "api", and every request that writes with an ``UploadBatch`` of source "api".
``?dry_run=true`` validates and counts without writing. The body may be up to settings.API_BULK_MAX_BYTES (the
other endpoints keep Django's DATA_UPLOAD_MAX_MEMORY_SIZE); a bigger one is a 413 problem. Besides the scope
"figures:write", the key's owner needs what the admin's upload needs: ``business.add_target`` / ``add_achievement``
(managers, who see every partner).

Queries per list page with an API key: the key and its owner, the rate window, the owner's visibility, the page's
rows (partner and parameter joined) — 4, whatever the page.
"""

import functools
import io
import re
from datetime import date

from django.conf import settings
from django.db.models import Q
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from api.permissions import HasScope
from api.problems import problem
from api.resources import (
    READ_ERRORS,
    WRITE_ERRORS,
    WRITE_HEADERS,
    PageQuerySerializer,
    page_candidates,
    page_response,
    page_serializer,
    query_params,
)
from api.views import ApiView
from api.writes import api_write
from business.imports import COLUMNS, MAX_ERRORS, import_period_rows
from business.models import Achievement, Frequency, Parameter, Target, UploadBatch
from business.selectors import figures_visible_parts, parameters_all
from partners.selectors import partner_visible_to

BULK_MAX_ROWS = 100_000
_PERIOD = re.compile(r"([0-9]{4})-(?:([0-9]{2})|[Qq]([1-4])|([0-9]{2})-([0-9]{2}))", re.ASCII)


# --- Parameters -------------------------------------------------------------------------------------------------------


class ParameterSerializer(serializers.ModelSerializer):
    source = serializers.ChoiceField(choices=Parameter.Source.choices,
                                     help_text="computed: from the system's own data; uploaded: by file or API.")

    class Meta:
        model = Parameter
        fields = ["id", "code", "name", "unit", "frequency", "source", "is_system", "is_active", "description"]


class ParameterListSerializer(serializers.Serializer):
    results = ParameterSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Always null: every parameter is on one page.")


class ParameterList(ApiView):
    scope_group = "figures"
    serializer_class = ParameterSerializer

    @extend_schema(operation_id="parameters_list", responses={200: ParameterListSerializer, **READ_ERRORS},
                   summary="Every business parameter (code, unit, monthly or quarterly, computed or uploaded).")
    def get(self, request):
        return Response({"results": ParameterSerializer(parameters_all(), many=True).data, "next_cursor": None})


# --- Targets and achievements: lists ------------------------------------------------------------------------------


def period_bounds(text: str) -> tuple[date, date] | None:
    """``YYYY-MM``, ``YYYY-Qn`` or ``YYYY-MM-DD`` as [first day, first day after), or None if it names no period."""
    match = _PERIOD.fullmatch(text)
    if not match:
        return None
    year, month, quarter, day_month, day = match.groups()
    try:
        if month:
            start = date(int(year), int(month), 1)
            months = 1
        elif quarter:
            start = date(int(year), 3 * (int(quarter) - 1) + 1, 1)
            months = 3
        else:
            start = date(int(year), int(day_month), int(day))
            return start, date.fromordinal(start.toordinal() + 1) if start < date.max else start
        index = start.year * 12 + start.month - 1 + months
        return start, date(index // 12, index % 12 + 1, 1) if index // 12 <= 9999 else date.max
    except ValueError:
        return None


class PeriodField(serializers.CharField):
    default_error_messages = {"period": "Give a period: YYYY-MM, YYYY-Qn or YYYY-MM-DD (years 1 to 9999)."}

    def __init__(self, **kwargs):
        super().__init__(max_length=10, **kwargs)

    def to_internal_value(self, data):
        bounds = period_bounds(super().to_internal_value(data).strip())
        if bounds is None:
            self.fail("period")
        return bounds


class FigureQuerySerializer(PageQuerySerializer):
    partner = serializers.CharField(max_length=50, required=False, help_text="A partner's id or code.")
    parameter = serializers.SlugField(max_length=50, required=False, help_text="A parameter's code.")
    period_from = PeriodField(required=False, help_text="Periods starting in or after this one (YYYY-MM, YYYY-Qn, "
                                                          "YYYY-MM-DD).")
    period_to = PeriodField(required=False, help_text="Periods starting in or before this one.")


class AchievementQuerySerializer(FigureQuerySerializer):
    source = serializers.ChoiceField(choices=Achievement.Source.choices, required=False)


class FigureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = serializers.IntegerField(source="partner_id", help_text="The partner's id.")
    partner_code = serializers.CharField(source="partner.code")
    parameter = serializers.CharField(source="parameter.code", help_text="The parameter's code.")
    period = serializers.SerializerMethodField(help_text="2026-03 (monthly) or 2026-Q1 (quarterly).")
    period_start = serializers.DateField()
    value = serializers.DecimalField(max_digits=18, decimal_places=4)
    upload_batch = serializers.IntegerField(source="upload_batch_id", allow_null=True,
                                            help_text="The upload or API request that last set it (null: computed).")
    updated_at = serializers.DateTimeField()

    def get_period(self, row) -> str:
        start = row.period_start
        if row.parameter.frequency == Frequency.QUARTERLY:
            return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
        return f"{start.year:04d}-{start.month:02d}"


class TargetSerializer(FigureSerializer):
    set_by = serializers.IntegerField(source="set_by_id", allow_null=True, help_text="The user who set it (id).")


class AchievementSerializer(FigureSerializer):
    source = serializers.ChoiceField(choices=Achievement.Source.choices)


TargetPageSerializer = page_serializer("TargetPageSerializer", TargetSerializer)
AchievementPageSerializer = page_serializer("AchievementPageSerializer", AchievementSerializer)


def figures(*, user, model, partner: str | None = None, parameter: str | None = None,
            period_from: tuple[date, date] | None = None, period_to: tuple[date, date] | None = None,
            source: str | None = None, updated_since=None):
    """The figures of ``model``, filtered (``user``'s visibility is applied by the caller: ``figures_visible_parts``
    and ``page_candidates``)."""
    queryset = model.objects.all()
    if partner:
        match = Q(code=partner)
        if partner.isascii() and partner.isdigit() and len(partner) <= 18:
            match |= Q(pk=int(partner))
        queryset = queryset.filter(partner__in=partner_visible_to(user).filter(match).values("pk"))
    if parameter:
        queryset = queryset.filter(parameter__code=parameter)
    if period_from:
        queryset = queryset.filter(period_start__gte=period_from[0])
    if period_to:
        queryset = queryset.filter(period_start__lt=period_to[1])
    if source:
        queryset = queryset.filter(source=source)
    if updated_since:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset


def _with_related(queryset, model):
    """Partner code and parameter joined."""
    return queryset.select_related("partner", "parameter").only(
        *[f.name for f in model._meta.concrete_fields if f.name not in ("partner", "parameter")],
        "partner__code", "parameter__code", "parameter__frequency",
    )


class _FigureList(ApiView):
    scope_group = "figures"
    model = Target
    query_serializer = FigureQuerySerializer

    def get(self, request):
        params = query_params(request, self.query_serializer)
        filters = {name: params.pop(name) for name in list(params) if name not in ("cursor", "limit")}
        queryset = figures(user=request.user, model=self.model, **filters)
        parts = figures_visible_parts(request.user, queryset)
        queryset = page_candidates(queryset, parts, cursor=params.get("cursor"), limit=params["limit"])
        return page_response(_with_related(queryset, self.model), params=params,
                             serializer_class=self.serializer_class, narrowed=parts is not None)


class TargetList(_FigureList):
    serializer_class = TargetSerializer

    @extend_schema(operation_id="targets_list", parameters=[FigureQuerySerializer],
                   responses={200: TargetPageSerializer, **READ_ERRORS},
                   summary="Targets of the partners you may see, oldest change first, a page at a time (cursor).")
    def get(self, request):
        return super().get(request)


class AchievementList(_FigureList):
    model = Achievement
    query_serializer = AchievementQuerySerializer
    serializer_class = AchievementSerializer

    @extend_schema(operation_id="achievements_list", parameters=[AchievementQuerySerializer],
                   responses={200: AchievementPageSerializer, **READ_ERRORS},
                   summary="Achievements of the partners you may see, oldest change first, a page at a time.")
    def get(self, request):
        return super().get(request)


# --- Bulk upserts -----------------------------------------------------------------------------------------------------


class BulkRowSerializer(serializers.Serializer):
    """One row, as a line of the CSV import (the schema only: rows are checked by business.imports)."""

    partner_code = serializers.CharField(help_text="The partner's code.")
    parameter = serializers.CharField(help_text="The parameter's code.")
    period = serializers.CharField(help_text="YYYY-MM, YYYY-Qn, or the period's first day YYYY-MM-DD.")
    value = serializers.DecimalField(max_digits=18, decimal_places=4, min_value=0, coerce_to_string=False,
                                     help_text="A number ≥ 0 with at most 4 decimals (a JSON number or a string).")


class BulkRequestSerializer(serializers.Serializer):
    rows = BulkRowSerializer(many=True, help_text=f"1 to {BULK_MAX_ROWS:,} rows; one key (partner, parameter, "
                                                  "period) at most once.")


class BulkResultSerializer(serializers.Serializer):
    batch = serializers.IntegerField(allow_null=True, help_text="The UploadBatch recorded (null for a dry run).")
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class BulkQuerySerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=False, required=False,
                                       help_text="true: validate and count only, write nothing.")


def bulk_body(handler):
    """Read the body up to settings.API_BULK_MAX_BYTES (not DATA_UPLOAD_MAX_MEMORY_SIZE: 100,000 rows are ~8 MB)
    before ``api_write`` hashes it and the parser reads it; a bigger body is a 413 problem, read no further."""

    @functools.wraps(handler)
    def read(view, request, *args, **kwargs):
        django_request = request._request
        limit = settings.API_BULK_MAX_BYTES
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
        if length > limit:
            return problem(413, code="too_large",
                           detail=f"The body has {length:,} bytes; the limit is {limit:,} (about {BULK_MAX_ROWS:,} "
                                  "rows; setting API_BULK_MAX_BYTES). Send the rows in several requests.")
        if not hasattr(django_request, "_body") and not django_request._read_started:
            # What HttpRequest.body does, with this endpoint's limit instead of DATA_UPLOAD_MAX_MEMORY_SIZE.
            django_request._body = django_request.read(limit + 1)
            django_request._stream = io.BytesIO(django_request._body)
        return handler(view, request, *args, **kwargs)

    return read


_TYPE_MESSAGE = "Give a string (or a number for the value)."


def _cells(rows, errors: list[dict]) -> tuple[list[tuple[str, str, str, str]], int]:
    """The rows as the import's text cells, and how many shape errors (the first MAX_ERRORS in ``errors``): each row
    an object with exactly the four fields, each a string (the value may be a number)."""
    cells, count = [], 0

    def error(field: str, message: str) -> None:
        nonlocal count
        count += 1
        if len(errors) < MAX_ERRORS:
            errors.append({"field": field, "message": message})

    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            error(f"rows[{index}]", "Give an object with partner_code, parameter, period and value.")
            continue
        values = []
        for column in COLUMNS:
            cell = row.get(column)
            if cell is None:
                error(f"rows[{index}].{column}", "This field is required.")
                values.append("")
            elif isinstance(cell, str):
                values.append(cell)
            elif column == "value" and isinstance(cell, int | float) and not isinstance(cell, bool):
                values.append(repr(cell) if isinstance(cell, float) else str(cell))
            else:
                error(f"rows[{index}].{column}", _TYPE_MESSAGE)
                values.append("")
        for extra in sorted(set(row) - set(COLUMNS))[:3]:
            error(f"rows[{index}].{_name(extra)}", f"Unexpected field; a row has only {', '.join(COLUMNS)}.")
        if row and not any(v.strip() for v in values) and all(isinstance(row.get(c), str) for c in COLUMNS):
            error(f"rows[{index}]", "The row is empty.")
        cells.append(tuple(values))
    return cells, count


def _name(name: str) -> str:
    """A field name from the body, fit to echo (and to store with an idempotent answer): printable, 50 characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(name)[:50])


def _row_name(number: int) -> str:
    return f"rows[{number - 1}]"


def _field(error) -> str:
    """rows[<index>].<column> for an import error (row n is rows[n-1]); several columns: the row."""
    if not error.row:
        return "rows"
    where = _row_name(error.row)
    return f"{where}.{error.column}" if error.column in COLUMNS else where


def _invalid(errors: list[dict], count: int):
    more = f" The first {len(errors)} are listed; {count - len(errors):,} more are not." if count > len(errors) else ""
    detail = f"{count:,} error{'s' if count != 1 else ''}: nothing was written.{more}"
    return problem(400, detail=detail, code="validation", errors=errors)


class MayUpload(BasePermission):
    """The bulk upserts need what the admin's upload needs: the model's add permission (managers)."""

    def has_permission(self, request, view):
        codename = f"business.add_{view.kind.removesuffix('s')}"
        self.message = f"Uploading {view.kind} needs the permission {codename} (managers have it)."
        return request.user.has_perm(codename)


class _Bulk(ApiView):
    scope_group = "figures"
    permission_classes = [HasScope, MayUpload]
    kind = UploadBatch.Kind.TARGETS

    @bulk_body
    @api_write
    def post(self, request):
        dry_run = query_params(request, BulkQuerySerializer)["dry_run"]
        body = request.data
        if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
            raise exceptions.ValidationError({"rows": ["Give the rows as a list: {\"rows\": [{…}, …]}."]})
        rows = body["rows"]
        if not rows or len(rows) > BULK_MAX_ROWS:
            raise exceptions.ValidationError(
                {"rows": [f"Send 1 to {BULK_MAX_ROWS:,} rows per request (this one has {len(rows):,})."]})
        extra = sorted(_name(name) for name in body if name != "rows")[:3]
        errors: list[dict] = [{"field": name, "message": "Unexpected field; the body has only rows."} for name in extra]
        cells, count = _cells(rows, errors)
        count += len(extra)
        if count:
            return _invalid(errors, count)
        key = request.auth
        label = f"API key {key.name} ({key.prefix}…)" if key is not None and hasattr(key, "prefix") else "API session"
        result = import_period_rows(rows=cells, kind=self.kind, label=f"{label}, {len(cells):,} rows",
                                    user=request.user, dry_run=dry_run, row_name=_row_name)
        if not result.ok:
            return _invalid([{"field": _field(e), "message": e.message} for e in result.errors], result.error_count)
        return Response({
            "batch": result.batch.pk if result.batch else None, "dry_run": dry_run, "rows": result.rows_total,
            "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
        }, status=200)


_BULK_SCHEMA = {
    "request": BulkRequestSerializer,
    "parameters": [*WRITE_HEADERS, OpenApiParameter("dry_run", bool, OpenApiParameter.QUERY, required=False,
                                                    description="true: validate and count only, write nothing.")],
    "responses": {200: BulkResultSerializer, **WRITE_ERRORS},
}


class TargetBulk(_Bulk):
    serializer_class = BulkRequestSerializer

    @extend_schema(operation_id="targets_bulk_upsert", summary="Upsert up to 100,000 targets: all or nothing.",
                   **_BULK_SCHEMA)
    def post(self, request):
        return super().post(request)


class AchievementBulk(_Bulk):
    kind = UploadBatch.Kind.ACHIEVEMENTS
    serializer_class = BulkRequestSerializer

    @extend_schema(operation_id="achievements_bulk_upsert",
                   summary="Upsert up to 100,000 achievements (source api): all or nothing.", **_BULK_SCHEMA)
    def post(self, request):
        return super().post(request)


urlpatterns = [
    path("parameters/", ParameterList.as_view(), name="parameters"),
    path("targets/", TargetList.as_view(), name="targets"),
    path("targets/bulk", TargetBulk.as_view(), name="targets-bulk"),
    path("achievements/", AchievementList.as_view(), name="achievements"),
    path("achievements/bulk", AchievementBulk.as_view(), name="achievements-bulk"),
]
