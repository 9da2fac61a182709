"""Errors as problem+json (RFC 9457): ``{"type", "title", "status", "detail", "errors": [{"field", "message"}]}`` with
``Content-Type: application/problem+json``. Validation errors are flattened to field paths (``a.b[2].c``); Django's
Http404 and PermissionDenied become 404 and 403 as in DRF, a service's ValidationError a 400 naming its fields;
anything else is left to Django (a 500, never expected)."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://prm.invalid/problems/"  # a stable identifier per problem type (not a page)

TITLES = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    428: "Precondition required",
    429: "Too many requests",
}


def field_errors(detail, path: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of {"field": "a.b[2].c", "message": …}."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = str(key)
            if name in ("non_field_errors", "__all__"):
                sub = path
            elif name.isdigit() and path:
                sub = f"{path}[{name}]"
            else:
                sub = f"{path}.{name}" if path else name
            out += field_errors(value, sub)
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"field": path, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item in ({}, [], ""):
                continue
            out += field_errors(item, f"{path}[{index}]")
        return out
    return [{"field": path, "message": str(detail)}]


def problem(status_code: int, *, detail: str, code: str, errors: list[dict] | None = None,
            headers: dict | None = None) -> Response:
    body = {
        "type": TYPE_BASE + code.replace("_", "-"),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoValidationError):  # a service's full_clean / checks: the same 400 with field paths
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages})
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()
    if isinstance(exc, exceptions.ValidationError):
        return problem(status.HTTP_400_BAD_REQUEST, detail="The request has invalid fields.", code="validation",
                       errors=field_errors(exc.detail), headers=headers)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
    return problem(exc.status_code, detail=str(detail), code=str(code), headers=headers)
