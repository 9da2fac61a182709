"""Pulls through the real connector and simple-salesforce against the local Salesforce (tests/integrations/
fake_salesforce.py)."""

from integrations.models import Connection, ExternalRef, SyncCursor, SyncLog, SyncRun
from integrations.services import connection_pull
from partners.models import Partner, StatusChange
from tests.integrations.fake_salesforce import PAGE_SIZE


def _accounts(fake_sf, count, **extra):
    fake_sf.bulk_load("Account", [{"Name": f"Account {i}", "Website": f"https://a{i}.example.com", **extra}
                                  for i in range(count)])


def test_initial_pull_pages_at_2000_and_creates_each_account_once(sf_connection, fake_sf):
    _accounts(fake_sf, 4500)
    outcome = connection_pull(connection_id=sf_connection.pk)
    run = outcome.run
    assert run.message == ""
    assert (run.status, run.pages, run.received, run.created, run.errors) == ("ok", 3, 4500, 4500, 0)
    assert PAGE_SIZE == 2000
    assert sum(1 for method, path in fake_sf.calls if "/query/01g" in path) == 2  # two nextRecordsUrl pages
    assert Partner.objects.count() == 4500
    partner = Partner.objects.get(name="Account 7")
    ref = ExternalRef.objects.get(local_id=partner.pk)
    assert partner.code == f"SF-{ref.remote_id}" and partner.website == "https://a7.example.com"
    sf_connection.refresh_from_db()
    assert sf_connection.last_success_at is not None and sf_connection.running_until is None
    # A second run finds nothing new: nothing duplicated, nothing written.
    again = connection_pull(connection_id=sf_connection.pk).run
    assert (again.received, again.created, again.updated) == (0, 0, 0)
    assert Partner.objects.count() == 4500


def test_incremental_pull_takes_changes_only_with_id_tiebreak(sf_connection, fake_sf):
    _accounts(fake_sf, 10)
    connection_pull(connection_id=sf_connection.pk)
    fake_sf.tick()
    fake_sf.frozen = True  # two changes in the same millisecond: the Id orders them, neither is lost
    ids = list(fake_sf.records["Account"])
    fake_sf.put("Account", ids[3], Name="Renamed 3")
    fake_sf.put("Account", ids[5], Name="Renamed 5")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.received, run.updated, run.created) == (2, 2, 0)
    assert set(Partner.objects.filter(name__startswith="Renamed").values_list("name", flat=True)) == {
        "Renamed 3", "Renamed 5"}
    cursor = SyncCursor.objects.get(connection=sf_connection)
    assert cursor.remote_id == ids[5]


def test_resume_after_crash_mid_pull(sf_connection, fake_sf):
    _accounts(fake_sf, 5000)
    # The first page is committed; the second page's call fails (the CRM goes down mid-pull).
    calls = {"n": 0}
    original = fake_sf._page

    def crash_on_second(locator, offset):
        calls["n"] += 1
        if offset == 2000:
            raise ConnectionResetError("worker lost")
        return original(locator, offset)

    fake_sf._page = crash_on_second
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.status == "failed" and run.pages == 1
    assert Partner.objects.count() == 2000
    fake_sf._page = original
    Connection.objects.filter(pk=sf_connection.pk).update(next_attempt_at=None)  # backoff over
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.received, run.created) == ("ok", 3000, 3000)
    assert Partner.objects.count() == 5000
    assert ExternalRef.objects.count() == 5000


def test_deleted_account_marks_partner_inactive(sf_connection, fake_sf):
    account = fake_sf.put("Account", Name="Going away")
    connection_pull(connection_id=sf_connection.pk)
    fake_sf.delete("Account", account)
    connection_pull(connection_id=sf_connection.pk)
    partner = Partner.objects.get(name="Going away")
    assert partner.status == Partner.Status.INACTIVE and partner.status_reason == "Deleted in the CRM"
    assert StatusChange.objects.filter(partner=partner, to_status="inactive").count() == 1
    assert ExternalRef.objects.get(local_id=partner.pk).deleted_remotely


def test_account_carrying_our_code_links_to_the_existing_partner(sf_connection, fake_sf, partner):
    fake_sf.put("Account", Name="From CRM", PRM_Code__c=partner.code)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.created == 0
    assert Partner.objects.count() == 1
    assert ExternalRef.objects.get().local_id == partner.pk


def test_bad_records_go_to_the_log_without_stopping_the_page(sf_connection, fake_sf):
    good = fake_sf.put("Account", Name="Fine")
    too_long = fake_sf.put("Account", Name="x" * 250)  # Partner.name is 200 characters
    fake_sf.records["Account"]["001BROKEN"] = {"Id": "001BROKEN", "IsDeleted": False, "LastModifiedDate": "yesterday",
                                               "Name": "Broken"}
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.status == "ok" and run.created == 1 and run.errors == 2
    logs = {log.record: log for log in SyncLog.objects.filter(run=run)}
    assert logs[too_long].error_code == "INVALID_VALUE" and "name" in logs[too_long].message
    assert logs["001BROKEN"].error_code == "MALFORMED_RECORD"
    assert Partner.objects.filter(name="Fine").exists()
    assert good not in logs


def test_mapping_to_a_field_gone_remotely_is_logged_and_the_rest_syncs(sf_connection, fake_sf):
    sf_connection.mappings.filter(local_field="website").update(remote_field="Old_Site__c")
    fake_sf.put("Account", Name="Still synced")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.status == "ok" and run.created == 1
    log = SyncLog.objects.get(run=run)
    assert log.error_code == "INVALID_FIELD" and "Old_Site__c" in log.message


def test_one_run_at_a_time(sf_connection, fake_sf):
    from django.utils import timezone

    Connection.objects.filter(pk=sf_connection.pk).update(running_until=timezone.now() + timezone.timedelta(minutes=5))
    outcome = connection_pull(connection_id=sf_connection.pk)
    assert outcome.run is None
    assert SyncRun.objects.count() == 0
