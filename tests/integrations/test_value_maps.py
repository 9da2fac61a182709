"""An org whose Lead Status values differ from Salesforce's defaults: the admin maps each PRM stage to the org's own
value on the stage mapping's page, and both directions use it."""

import pytest
from django.urls import reverse

from integrations.models import SyncLog
from integrations.services import connection_pull, crm_push_pending
from leads.models import Lead
from leads.services import lead_create
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(factories.manager_user(username="admin1", is_superuser=True))
    return client


def _post(admin_client, connection, mapping, values, **extra):
    data = {"remote_field": "Status", "direction": "both", "apply_on": "update", "conflict_rule": "latest_wins",
            "save": "1", **{f"value__{k}": v for k, v in values.items()}, **extra}
    return admin_client.post(reverse("crm:mapping", args=[connection.pk, mapping.pk]), data)


def test_the_stage_mapping_shows_one_input_per_stage_with_the_defaults(admin_client, sf_connection):
    mapping = sf_connection.mappings.get(object="lead", local_field="stage")
    html = admin_client.get(reverse("crm:mapping", args=[sf_connection.pk, mapping.pk])).content.decode()
    assert "CRM value for “New”" in html and 'value="Open - Not Contacted"' in html
    plain = sf_connection.mappings.get(object="lead", local_field="company")
    assert "value__" not in admin_client.get(reverse("crm:mapping", args=[sf_connection.pk, plain.pk])).content.decode()


def test_the_orgs_own_values_are_used_both_ways(admin_client, sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    mapping = sf_connection.mappings.get(object="lead", local_field="stage")
    values = {"new": "Open", "contacted": "Working", "qualified": "Qualified", "won": "Converted", "lost": "Dead"}
    assert _post(admin_client, sf_connection, mapping, values).status_code == 302
    mapping.refresh_from_db()
    assert mapping.value_map == values
    remote = fake_sf.put("Lead", LastName="Ada", Company="Engines", Status="Qualified")
    fake_sf.put("Lead", LastName="Old", Company="X", Status="Working - Contacted")  # a default value, not the org's now
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.created, run.errors) == (1, 1)
    assert Lead.objects.get(name="Ada").stage == "qualified"
    assert "Open, Working, Qualified, Converted, Dead" in SyncLog.objects.get(run=run).message
    lead = lead_create(by=None, name="Grace", company="Navy")
    crm_push_pending()
    pushed = next(r for r in fake_sf.records["Lead"].values() if r.get("PRM_Lead_Id__c") == str(lead.pk))
    assert pushed["Status"] == "Open" and fake_sf.records["Lead"][remote]["Status"] == "Qualified"


def test_two_stages_cannot_share_a_crm_value(admin_client, sf_connection):
    mapping = sf_connection.mappings.get(object="lead", local_field="stage")
    values = {"new": "Open", "contacted": "Open", "qualified": "Q", "won": "W", "lost": "L"}
    response = _post(admin_client, sf_connection, mapping, values)
    assert response.status_code == 400 and "used twice" in response.content.decode()
    mapping.refresh_from_db()
    assert mapping.value_map == {}
