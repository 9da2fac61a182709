"""Property-based tests of the partner and tier endpoints against /api/v1/openapi.json (schemathesis): no 5xx, and
responses (status, content type, body) match the schema, whatever the generated query. Bounded: 30 examples per
operation, derandomized. Requests go through the WSGI app in this process, so they see the test's rows."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from prm.wsgi import application
from tests import factories

# Loaded at collection through the WSGI app: the schema view reads no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def key_headers(db, make_key, settings):
    """A rep's read key, with their partners (contacts, locations) and another rep's. As Django's test client does,
    requests keep the test's database connection (Django closes it at the end of each request otherwise, losing the
    test transaction)."""
    settings.API_RATE_LIMIT = 100_000
    rep = factories.rep_user(username="fuzz-rep")
    for _ in range(3):
        factories.partner_with_contacts(assigned_to=rep)
    factories.PartnerFactory(assigned_to=factories.rep_user(username="fuzz-other"))
    _key, secret = make_key(rep, scopes=["partners:read"])
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {secret}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api_conforms_to_its_schema(case, key_headers):
    response = case.call(headers=key_headers)
    assert response.status_code < 500, response.text
    # A cursor is opaque (signed): the schema can only say "a string", so a made-up one is rightly a 400.
    excluded = [schemathesis.checks.positive_data_acceptance] if (case.query or {}).get("cursor") is not None else []
    case.validate_response(response, headers=key_headers, excluded_checks=excluded)
