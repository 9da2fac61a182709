"""Fixtures of the service tickets' tests: uploaded files go to a temporary MEDIA_ROOT; a customer of ``rep`` (via a
partner of theirs) and one of ``other_rep``."""

import pytest

from tests import factories
from tests.smtp import smtp_server  # noqa: F401 (fixture for the breach email test)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def customer(rep):
    partner = factories.PartnerFactory(name="Acme Traders", assigned_to=rep)
    return factories.CustomerFactory(name="Foo Ltd", partner=partner, assigned_to=rep)


@pytest.fixture
def other_customer(other_rep):
    partner = factories.PartnerFactory(name="Other Partner", assigned_to=other_rep)
    return factories.CustomerFactory(name="Bar Ltd", partner=partner, assigned_to=other_rep)
