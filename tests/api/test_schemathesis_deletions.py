"""Property-based test of /api/v1/deletions/ against /api/v1/openapi.json (schemathesis): no 5xx, and responses
(status, content type, body) match the schema whatever the generated query. The key reads figures and leads, so both
the answers and the scope refusals (other types) are exercised; tombstones of two types exist. Bounded: 50 examples,
derandomized. Requests go through the WSGI app in this process, so they see the test's rows."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from outbox.services import tombstones_record
from prm.wsgi import application
from tests import factories

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    path_regex=r"^/api/v1/deletions/"
)


@pytest.fixture
def key_headers(db, make_key, settings):
    settings.API_RATE_LIMIT = 100_000
    rep = factories.rep_user(username="fuzz-deletions")
    tombstones_record(subject_type="target", subject_ids=[1, 2, 3])
    tombstones_record(subject_type="lead", subject_ids=[4])
    _key, secret = make_key(rep, scopes=["figures:read", "leads:read"])
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {secret}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_deletions_conform_to_the_schema(case, key_headers):
    response = case.call(headers=key_headers)
    assert response.status_code < 500, response.text
    # A cursor is opaque (signed): a made-up one is rightly a 400; a type the key has no scope for is a 403.
    excluded = [schemathesis.checks.positive_data_acceptance]
    case.validate_response(response, headers=key_headers, excluded_checks=excluded)
