"""Writes through the API: one transaction per request, ``Idempotency-Key`` replays, and optimistic concurrency with
``ETag`` / ``If-Match``.

- ``@api_write`` on a view's post/put/patch/delete runs it in one transaction. With an ``Idempotency-Key`` header
  (1-255 visible ASCII characters, per key or session user), the key is claimed by an INSERT in that same transaction
  (api.services.idempotency_claim): the answer (any status below 500) is stored with it and replayed, with
  ``Idempotent-Replayed: true``, to every retry of the same request for settings.IDEMPOTENCY_HOURS. The same key with
  another method, path or body is a 422. A concurrent retry waits on the unique index until the first commits, then
  replays it: the write happens once. A 5xx rolls the claim back with the write, so the retry runs again.
- ``locked_for_update`` reads the row to update with ``SELECT … FOR UPDATE`` from a visibility queryset (404 when the
  caller may not see it) and compares ``If-Match`` with its current ETag (412 on a mismatch, the current ETag in the
  answer). Without ``If-Match`` the update goes ahead (last write wins), as for the pages.
- ``etag_response`` answers with the row's ETag; a GET whose ``If-None-Match`` matches gets a 304.

An ETag is a digest of the row's model, id and ``updated_at``: it changes with every save (``auto_now``) and says
nothing else about the row.
"""

import functools
import hashlib
import re

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.models import ApiKey
from api.problems import exception_handler, problem
from api.services import idempotency_claim, idempotency_get, idempotency_store

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
_KEPT_HEADERS = ("ETag", "Location")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record changed since you read it (If-Match does not match its ETag): read it again."
    default_code = "precondition_failed"


def etag_of(obj: Model) -> str:
    stamp = obj.updated_at.isoformat()
    digest = hashlib.blake2b(f"{obj._meta.label}:{obj.pk}:{stamp}".encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def _tags(header: str) -> set[str]:
    """The entity tags of an If-Match / If-None-Match header ("*" kept as is; weak tags compare by their value)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def locked_for_update(request, queryset: QuerySet, *, pk: int) -> Model:
    """The row ``pk`` of ``queryset`` (the caller's visibility), locked until the write's transaction ends; 404 if
    not visible, 412 if ``If-Match`` names another version. One query. Call inside ``@api_write``."""
    obj = get_object_or_404(queryset.select_for_update(of=("self",)), pk=pk)
    header = request.headers.get("If-Match")
    if header is not None:
        tags = _tags(header)
        if "*" not in tags and etag_of(obj) not in tags:
            raise PreconditionFailed()
    return obj


def etag_response(data, *, obj: Model, status: int = 200, headers: dict | None = None, request=None) -> Response:
    """``data`` with ``obj``'s ETag. Given the ``request`` of a GET whose If-None-Match matches: 304, no body."""
    tag = etag_of(obj)
    all_headers = {"ETag": tag, **(headers or {})}
    if request is not None and request.method in ("GET", "HEAD"):
        header = request.headers.get("If-None-Match")
        if header is not None and (tag in _tags(header) or "*" in _tags(header)):
            return Response(status=304, headers={"ETag": tag})
    return Response(data, status=status, headers=all_headers)


def _bucket(request) -> str:
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    return f"user:{request.user.pk}"


def _request_hash(request, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def api_write(handler):
    """Decorate an ApiView write method: one transaction, and Idempotency-Key replays (see the module)."""

    @functools.wraps(handler)
    def write(view, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            with transaction.atomic():
                return handler(view, request, *args, **kwargs)
        if not _KEY_PATTERN.fullmatch(key):
            raise exceptions.ValidationError(
                {IDEMPOTENCY_HEADER: ["Use 1 to 255 visible ASCII characters (a UUID is a good key)."]}
            )
        try:
            body = request._request.body  # read (and kept) before the parser consumes the stream
        except RequestDataTooBig:
            return problem(413, detail="The request body is too large.", code="too_large")
        request_hash = _request_hash(request, body)
        bucket = _bucket(request)
        with transaction.atomic():
            record = idempotency_claim(bucket=bucket, key=key, request_hash=request_hash)
            if record is None:
                return _replay(bucket=bucket, key=key, request_hash=request_hash)
            try:
                with transaction.atomic():
                    response = handler(view, request, *args, **kwargs)
            except (exceptions.APIException, Http404, PermissionDenied, ValidationError) as error:
                response = exception_handler(error, {"view": view, "request": request})
            if response.status_code < 500:
                headers = {name: response[name] for name in _KEPT_HEADERS if response.has_header(name)}
                if response.content_type:
                    headers["Content-Type"] = response.content_type
                idempotency_store(record=record, status_code=response.status_code, body=response.data,
                                  headers=headers)
            return response

    return write


def _replay(*, bucket: str, key: str, request_hash: str) -> Response:
    record = idempotency_get(bucket=bucket, key=key)
    if record.request_hash != request_hash:
        return problem(
            422,
            detail="This Idempotency-Key was already used for a different request (method, path or body); "
                   "use a new key for a new request.",
            code="idempotency_key_reused",
        )
    headers = {name: value for name, value in record.response_headers.items() if name != "Content-Type"}
    response = Response(record.response_body, status=record.status_code,
                        headers={**headers, REPLAYED_HEADER: "true"})
    content_type = record.response_headers.get("Content-Type")
    if content_type:
        response.content_type = content_type
    return response
