"""Property-based tests of the partner writes and the activity, lead and customer endpoints against
/api/v1/openapi.json (schemathesis), reads and writes: no 5xx, and responses (status, content type, body) match the
schema whatever the generated query, path or body. The key has every scope of these groups, so the writes run (a
generated body that passes validation really writes, through the services). Bounded: 30 examples per operation,
derandomized. Requests go through the WSGI app in this process, so they see the test's rows."""

from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from activities.services import activity_log, activity_schedule
from leads.services import lead_create
from prm.wsgi import application
from tests import factories

GROUPS = ("partners", "activities", "leads", "customers")
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    path_regex=r"^/api/v1/(partners|activities|leads|customers)/"
)


@pytest.fixture
def key_headers(db, make_key, settings):
    """A rep's key with read and write scopes of these groups, with their partners (contacts, locations), customers,
    activities and leads, and another rep's. As Django's test client does, requests keep the test's database
    connection."""
    settings.API_RATE_LIMIT = 100_000
    rep = factories.rep_user(username="fuzz-rep")
    for index in range(3):
        partner = factories.partner_with_contacts(assigned_to=rep)
        customer = factories.customer_with_contacts(partner=partner)
        activity_schedule(partner=partner, by=rep, kind="call", start_at=timezone.now() + timedelta(days=index + 1))
        activity_log(customer=customer, by=rep, kind="visit", start_at=timezone.now() - timedelta(days=index + 1))
        lead_create(by=rep, name=f"Lead {index}", partner=partner)
    other = factories.PartnerFactory(assigned_to=factories.rep_user(username="fuzz-other"))
    lead_create(by=other.assigned_to, name="Not theirs", partner=other)
    _key, secret = make_key(rep, scopes=[f"{group}:{access}" for group in GROUPS for access in ("read", "write")])
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
    # A cursor is opaque (signed): the schema can only say "a string", so a made-up one is rightly a 400. A body the
    # schema allows can still break a rule the schema cannot say (a past time, a partner the caller may not see, a
    # closed lead): a 400/409 there is the API working, not a mismatch.
    excluded = [schemathesis.checks.positive_data_acceptance]
    case.validate_response(response, headers=key_headers, excluded_checks=excluded)


def test_the_schema_has_these_operations(client):
    """Every operation of these resources is in /api/v1/openapi.json (so the fuzzing above covers it)."""
    import json

    paths = json.loads(client.get("/api/v1/openapi.json").content)["paths"]
    expected = {
        "/api/v1/partners/": {"get", "post"}, "/api/v1/partners/{id}/": {"get", "patch"},
        "/api/v1/activities/": {"get", "post"}, "/api/v1/activities/{id}/": {"get", "patch"},
        "/api/v1/activities/{id}/complete": {"post"}, "/api/v1/activities/{id}/cancel": {"post"},
        "/api/v1/leads/": {"get", "post"}, "/api/v1/leads/{id}/": {"get", "patch"},
        "/api/v1/leads/{id}/stage": {"post"}, "/api/v1/leads/{id}/convert": {"post"},
        "/api/v1/customers/": {"get"}, "/api/v1/customers/{id}/": {"get", "patch"},
    }
    for path, verbs in expected.items():
        assert set(paths[path]) - {"parameters"} == verbs, path
    activity_params = {p["name"] for p in paths["/api/v1/activities/"]["get"]["parameters"]}
    assert {"partner", "customer", "owner", "kind", "state", "starts_after", "starts_before", "updated_since",
            "cursor", "limit"} <= activity_params
    patch_headers = {p["name"] for p in paths["/api/v1/leads/{id}/"]["patch"]["parameters"] if p["in"] == "header"}
    assert patch_headers == {"If-Match", "Idempotency-Key"}
