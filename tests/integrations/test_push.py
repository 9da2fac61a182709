"""Push (PRM → Salesforce) through the real connector: sObject Collections upsert by PRM_Code__c, echoes skipped."""

from integrations.models import ExternalRef, SyncLog
from integrations.services import connection_pull, connection_push
from partners.services import partner_update
from tests.factories import PartnerFactory


def _account(fake_sf, code):
    return next(r for r in fake_sf.records["Account"].values() if r.get("PRM_Code__c") == code)


def test_push_creates_accounts_in_batches_of_200_and_links_them(sf_connection, fake_sf):
    partners = PartnerFactory.create_batch(250)
    run = connection_push(connection_id=sf_connection.pk, object="account", local_ids=[p.pk for p in partners])
    assert (run.status, run.created, run.errors) == ("ok", 250, 0)
    assert sum(1 for method, path in fake_sf.calls if "composite/sobjects/Account/PRM_Code__c" in path) == 2
    account = _account(fake_sf, partners[0].code)
    assert account["Name"] == partners[0].name
    assert ExternalRef.objects.get(local_id=partners[0].pk).remote_id == account["Id"]


def test_no_echo_either_way(sf_connection, fake_sf, partner):
    connection_push(connection_id=sf_connection.pk, object="account", local_ids=[partner.pk])
    pushes = len(fake_sf.calls)
    # The account we just wrote comes back on the next pull: nothing is written locally.
    pull = connection_pull(connection_id=sf_connection.pk).run
    assert (pull.received, pull.updated, pull.created, pull.skipped) == (1, 0, 0, 1)
    # A change pulled from the CRM is not pushed back.
    account = _account(fake_sf, partner.code)
    fake_sf.put("Account", account["Id"], Name="Renamed in CRM")
    connection_pull(connection_id=sf_connection.pk)
    partner.refresh_from_db()
    assert partner.name == "Renamed in CRM"
    before = len(fake_sf.calls)
    run = connection_push(connection_id=sf_connection.pk, object="account", local_ids=[partner.pk])
    assert (run.skipped, run.updated) == (1, 0)
    assert not any("composite" in path for _m, path in fake_sf.calls[before:])
    assert pushes > 0


def test_a_local_change_is_pushed_once(sf_connection, fake_sf, partner):
    connection_push(connection_id=sf_connection.pk, object="account", local_ids=[partner.pk])
    partner_update(partner=partner, by=None, name="New name")
    run = connection_push(connection_id=sf_connection.pk, object="account", local_ids=[partner.pk])
    assert run.updated == 1
    assert _account(fake_sf, partner.code)["Name"] == "New name"
    again = connection_push(connection_id=sf_connection.pk, object="account", local_ids=[partner.pk])
    assert (again.updated, again.skipped) == (0, 1)


def test_record_level_push_failure_is_logged_and_the_batch_goes_on(sf_connection, fake_sf):
    fake_sf.schemas["Account"]["Website"] = ("url", 40)  # a CRM field shorter than ours
    fine, long_site = PartnerFactory(website="https://a.example.com"), PartnerFactory(website="https://example.com/" + "a" * 50)
    run = connection_push(connection_id=sf_connection.pk, object="account", local_ids=[fine.pk, long_site.pk])
    assert (run.status, run.created, run.errors) == ("ok", 1, 1)
    log = SyncLog.objects.get(run=run)
    assert (log.record, log.direction, log.error_code) == (str(long_site.pk), "out", "STRING_TOO_LONG")
    assert not ExternalRef.objects.filter(local_id=long_site.pk).exists()
