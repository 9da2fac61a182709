"""Property-based tests of the deal, parameter, target and achievement endpoints (with the bulk upserts and the
decision) against /api/v1/openapi.json (schemathesis): no 5xx, and responses (status, content type, body) match the
schema whatever the generated query, path or body. The key is a manager's with read and write scopes of both groups,
so the writes run (a generated body that passes validation really writes, through the services). Bounded: 30
examples per operation, derandomized. Requests go through the WSGI app in this process, so they see the test's rows."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from portal import deal_services
from portal.models import Membership
from prm.wsgi import application
from tests import factories

GROUPS = ("deals", "figures")
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    path_regex=r"^/api/v1/(deals|parameters|targets|achievements)/"
)


@pytest.fixture
def key_headers(db, make_key, settings):
    """A manager's key with read and write scopes of these groups; partners with targets, achievements and submitted
    deal registrations. As Django's test client does, requests keep the test's database connection."""
    settings.API_RATE_LIMIT = 100_000
    manager = factories.manager_user(username="fuzz-manager")
    for index in range(3):
        partner = factories.PartnerFactory(code=f"F-{index}")
        factories.TargetFactory(partner=partner, period_start=date(2026, index + 1, 1))
        factories.AchievementFactory(partner=partner, period_start=date(2026, index + 1, 1))
        member = Membership.objects.create(user=factories.UserFactory(username=f"fuzz-member-{index}"),
                                           partner=partner, role=Membership.Role.ADMIN)
        registration = deal_services.deal_save(member=member, company=f"Prospect {index}",
                                               domain=f"prospect{index}.example", contact_name="Bill",
                                               contact_email="", contact_phone="", country="DE", amount=Decimal("100"),
                                               currency="EUR", expected_close=date.today() + timedelta(days=30),
                                               notes="")
        deal_services.deal_submit(registration=registration, member=member)
    _key, secret = make_key(manager, scopes=[f"{group}:{access}" for group in GROUPS for access in ("read", "write")])
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
    # A cursor is opaque (signed): a made-up one is rightly a 400. A body the schema allows can still break a rule it
    # cannot say (an unknown partner code or parameter, a decided registration): a 400/409 is the API working.
    excluded = [schemathesis.checks.positive_data_acceptance]
    case.validate_response(response, headers=key_headers, excluded_checks=excluded)
