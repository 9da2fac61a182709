"""Conflict rules per field, when both sides changed since the last sync."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import FieldMapping
from integrations.services import connection_pull, connection_push
from partners.models import Partner
from partners.services import partner_update

C = FieldMapping.Conflict


def _linked(sf_connection, fake_sf, partner):
    connection_push(connection_id=sf_connection.pk, object="account", local_ids=[partner.pk])
    connection_pull(connection_id=sf_connection.pk)
    return next(r["Id"] for r in fake_sf.records["Account"].values() if r.get("PRM_Code__c") == partner.code)


@pytest.mark.parametrize(("rule", "remote", "expected"), [
    (C.PRM_WINS, "CRM name", "PRM name"),
    (C.CRM_WINS, "CRM name", "CRM name"),
    (C.CRM_UNLESS_BLANK, "CRM name", "CRM name"),
])
def test_rules_when_both_changed(sf_connection, fake_sf, partner, rule, remote, expected):
    sf_connection.mappings.filter(local_field="name").update(conflict_rule=rule)
    account = _linked(sf_connection, fake_sf, partner)
    partner_update(partner=partner, by=None, name="PRM name")
    fake_sf.put("Account", account, Name=remote)
    connection_pull(connection_id=sf_connection.pk)
    partner.refresh_from_db()
    assert partner.name == expected


def test_crm_unless_blank_keeps_the_local_value(sf_connection, fake_sf, partner):
    account = _linked(sf_connection, fake_sf, partner)
    partner_update(partner=partner, by=None, website="https://new.example.com")
    fake_sf.put("Account", account, Website=None)
    connection_pull(connection_id=sf_connection.pk)
    partner.refresh_from_db()
    assert partner.website == "https://new.example.com"


def test_latest_change_wins(sf_connection, fake_sf, partner):
    account = _linked(sf_connection, fake_sf, partner)
    partner_update(partner=partner, by=None, name="PRM later")
    fake_sf.clock = timezone.now() - dt.timedelta(hours=1)  # the CRM's edit is older than ours
    fake_sf.put("Account", account, Name="CRM earlier")
    connection_pull(connection_id=sf_connection.pk)
    assert Partner.objects.get(pk=partner.pk).name == "PRM later"
    fake_sf.clock = timezone.now() + dt.timedelta(hours=1)  # now the CRM's edit is the latest
    fake_sf.put("Account", account, Name="CRM latest")
    connection_pull(connection_id=sf_connection.pk)
    assert Partner.objects.get(pk=partner.pk).name == "CRM latest"


def test_fixed_value_and_create_only(sf_connection, fake_sf):
    sf_connection.mappings.filter(local_field="notes").update(fixed_value="Imported from Salesforce",
                                                              apply_on=FieldMapping.ApplyOn.CREATE)
    account = fake_sf.put("Account", Name="New one", Description="CRM text")
    connection_pull(connection_id=sf_connection.pk)
    partner = Partner.objects.get(name="New one")
    assert partner.notes == "Imported from Salesforce"
    fake_sf.put("Account", account, Description="changed")
    connection_pull(connection_id=sf_connection.pk)
    partner.refresh_from_db()
    assert partner.notes == "Imported from Salesforce"  # create only
