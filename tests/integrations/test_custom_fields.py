"""Custom fields mapped in one step: an admin adds a mapping from a PRM field not mapped yet (a partner's
configurable profile field included) to a CRM field picked from the describe call (custom fields included), and it
syncs both ways like the standard ones; added mappings can be removed, standard ones cannot (they come back)."""

import pytest
from django.urls import reverse

from integrations.models import FieldMapping, SyncLog
from integrations.services import connection_pull, connection_push
from partners.models import Partner, ProfileField
from partners.services import partner_update
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(factories.manager_user(username="admin1", is_superuser=True))
    return client


@pytest.fixture
def region(fake_sf):
    fake_sf.schemas["Account"]["Partner_Region__c"] = ("picklist", 255)
    return ProfileField.objects.create(key="region", label="Region", kind=ProfileField.Kind.CHOICE,
                                       choices=["EMEA", "APAC", "Americas"])


def _add(admin_client, connection, object, data):
    return admin_client.post(reverse("crm:mapping_add", args=[connection.pk, object]),
                             {"direction": "both", "apply_on": "update", "conflict_rule": "latest_wins", **data})


def test_the_form_offers_unmapped_fields_and_the_crms_own_custom_fields(admin_client, sf_connection, region):
    html = admin_client.get(reverse("crm:detail", args=[sf_connection.pk])).content.decode()
    assert reverse("crm:mapping_add", args=[sf_connection.pk, "account"]) in html
    html = admin_client.get(reverse("crm:mapping_add", args=[sf_connection.pk, "account"])).content.decode()
    assert 'value="profile.region"' in html and "Profile: Region" in html
    assert 'value="business_potential"' in html and 'value="name"' not in html  # mapped already
    assert 'value="Partner_Region__c"' in html  # from the describe call: no API name to type
    assert admin_client.get(reverse("crm:mapping_add", args=[sf_connection.pk, "price_entry"])).status_code == 404
    assert admin_client.get(reverse("crm:mapping_add", args=[sf_connection.pk, "nope"])).status_code == 404


def test_reps_and_managers_cannot_add_or_delete(client, rep, manager_client, sf_connection):
    client.force_login(rep)
    mapping = sf_connection.mappings.first()
    for c in (client, manager_client):
        assert c.get(reverse("crm:mapping_add", args=[sf_connection.pk, "account"])).status_code == 404
        assert _add(c, sf_connection, "account", {"local_field": "business_potential",
                                                  "remote_field": "Name"}).status_code == 404
        assert c.post(reverse("crm:mapping_delete", args=[sf_connection.pk, mapping.pk])).status_code == 404
    assert FieldMapping.objects.filter(connection=sf_connection).count() == mapping.connection.mappings.count()


def test_a_profile_field_syncs_both_ways(admin_client, sf_connection, fake_sf, region):
    response = _add(admin_client, sf_connection, "account", {"local_field": "profile.region",
                                                            "remote_field": "Partner_Region__c", "save": "1"})
    assert response.status_code == 302
    mapping = sf_connection.mappings.get(local_field="profile.region")
    assert mapping.remote_field == "Partner_Region__c"
    good = fake_sf.put("Account", Name="Good", Partner_Region__c="EMEA")
    fake_sf.put("Account", Name="Bad", Partner_Region__c="Mars")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.created, run.errors) == (1, 1)
    partner = Partner.objects.get(name="Good")
    assert partner.profile == {"region": "EMEA"}
    log = SyncLog.objects.get(run=run)
    assert log.error_code == "INVALID_VALUE" and "profile.region" in log.message and "Mars" in log.message
    # PRM → CRM: a profile edit is pushed; an untouched field is not sent.
    partner_update(partner=partner, by=None, profile={"region": "APAC"})
    pushed = connection_push(connection_id=sf_connection.pk, object="account", local_ids=[partner.pk])
    assert (pushed.updated, pushed.errors) == (1, 0)
    assert fake_sf.records["Account"][good]["Partner_Region__c"] == "APAC"
    again = connection_pull(connection_id=sf_connection.pk).run  # our own write: no echo
    assert (again.updated, Partner.objects.get(pk=partner.pk).profile) == (0, {"region": "APAC"})
    # Cleared in the CRM → cleared here.
    fake_sf.put("Account", good, Partner_Region__c=None)
    connection_pull(connection_id=sf_connection.pk)
    assert Partner.objects.get(pk=partner.pk).profile == {}


def test_preview_of_a_new_mapping_saves_nothing(admin_client, sf_connection, fake_sf, region):
    fake_sf.put("Account", Name="Preview me", Partner_Region__c="APAC")
    connection_pull(connection_id=sf_connection.pk)
    html = _add(admin_client, sf_connection, "account", {"local_field": "profile.region",
                                                        "remote_field": "Partner_Region__c", "preview": "1"}
                ).content.decode()
    assert "Preview me" in html and "APAC" in html and "PRM value replaced by the CRM" in html
    assert not sf_connection.mappings.filter(local_field="profile.region").exists()


def test_added_mappings_can_be_deleted_standard_ones_cannot(admin_client, sf_connection, region):
    _add(admin_client, sf_connection, "account", {"local_field": "profile.region", "remote_field": "Partner_Region__c",
                                                  "save": "1"})
    added = sf_connection.mappings.get(local_field="profile.region")
    standard = sf_connection.mappings.get(object="account", local_field="name")
    html = admin_client.get(reverse("crm:mapping", args=[sf_connection.pk, added.pk])).content.decode()
    assert reverse("crm:mapping_delete", args=[sf_connection.pk, added.pk]) in html
    html = admin_client.get(reverse("crm:mapping", args=[sf_connection.pk, standard.pk])).content.decode()
    assert "mapping_delete" not in html and "/delete/" not in html
    assert admin_client.post(reverse("crm:mapping_delete", args=[sf_connection.pk, added.pk])).status_code == 302
    assert not FieldMapping.objects.filter(pk=added.pk).exists()
    assert admin_client.post(reverse("crm:mapping_delete", args=[sf_connection.pk, standard.pk])).status_code == 302
    assert FieldMapping.objects.filter(pk=standard.pk).exists()


def test_a_mapping_to_a_profile_field_deleted_since_is_skipped_and_logged(sf_connection, fake_sf, region):
    FieldMapping.objects.create(connection=sf_connection, object="account", local_field="profile.region",
                                remote_field="Partner_Region__c")
    region.delete()
    fake_sf.put("Account", Name="Still synced", Partner_Region__c="EMEA")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.created == 1 and Partner.objects.get(name="Still synced").profile == {}
    assert SyncLog.objects.filter(run=run, error_code="INVALID_FIELD", message__contains="profile.region").exists()
