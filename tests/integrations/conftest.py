import pytest

from integrations import connectors
from integrations.services import connection_create
from tests.integrations.fake_salesforce import CLIENT_ID, CLIENT_SECRET, FakeSalesforce


@pytest.fixture
def fake_sf(settings):
    """The local Salesforce (HTTPS on 127.0.0.1); the connector trusts its self-signed certificate."""
    connectors._DESCRIBED.clear()  # a new server may reuse a previous one's port
    server = FakeSalesforce().start()
    settings.CRM_CA_BUNDLE = server.cert_path
    yield server
    server.stop()


@pytest.fixture
def sf_connection(db, fake_sf):
    return connection_create(name="Test org", instance_url=fake_sf.url,
                             credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})


@pytest.fixture
def partner(db):
    from tests.factories import PartnerFactory

    return PartnerFactory(name="Acme Partners", website="https://acme.example.com")
