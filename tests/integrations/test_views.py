"""/settings/crm/ (integrations.views): who may see and change what, query counts, the mapping editor's preview."""

import pytest
from django.urls import reverse

from integrations.models import Connection, FieldMapping, SyncCursor, SyncLog, SyncRun
from integrations.services import connection_pull
from tests import factories
from tests.integrations.fake_salesforce import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.django_db
URL = "/settings/crm/"


@pytest.fixture
def admin_client(client):
    admin = factories.manager_user(username="admin1", is_superuser=True)
    client.force_login(admin)
    return client


def test_reps_get_404_on_every_page_and_verb(client, rep, sf_connection):
    client.force_login(rep)
    mapping = sf_connection.mappings.first()
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"name": "x"}).status_code == 404
    for name, args in [("detail", [sf_connection.pk]), ("credentials", [sf_connection.pk]),
                       ("sync", [sf_connection.pk]), ("resync", [sf_connection.pk]),
                       ("mapping", [sf_connection.pk, mapping.pk])]:
        assert client.post(reverse(f"crm:{name}", args=args)).status_code in (404, 405)
        assert client.get(reverse(f"crm:{name}", args=args)).status_code in (404, 405)


def test_managers_see_but_do_not_change(manager_client, sf_connection):
    assert manager_client.get(reverse("crm:detail", args=[sf_connection.pk])).status_code == 200
    mapping = sf_connection.mappings.first()
    assert manager_client.post(reverse("crm:credentials", args=[sf_connection.pk]),
                               {"client_id": "a", "client_secret": "b"}).status_code == 404
    assert manager_client.get(reverse("crm:mapping", args=[sf_connection.pk, mapping.pk])).status_code == 404
    assert manager_client.post(URL, {"name": "Other", "instance_url": "https://x.example.com", "client_id": "a",
                                     "client_secret": "b"}).status_code == 404


def test_admin_adds_a_connection_and_the_secret_is_never_shown(admin_client):
    response = admin_client.post(URL, {"name": "Org <b>", "instance_url": "https://acme.my.salesforce.com",
                                       "client_id": "key", "client_secret": "s3cret-value"})
    connection = Connection.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("crm:detail", args=[connection.pk])
    assert connection.mappings.filter(object="account").count() == 4 and connection.mappings.filter(object="lead").count() == 5
    html = admin_client.get(response["Location"]).content.decode()
    assert "s3cret-value" not in html and "Org &lt;b&gt;" in html
    assert "s3cret-value" not in admin_client.get(URL).content.decode()


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "instance_url": "https://a.example.com", "client_id": "a", "client_secret": "b"}, "required"),
    ({"name": "n", "instance_url": "http://a.example.com", "client_id": "a", "client_secret": "b"}, "https://"),
    ({"name": "n", "instance_url": "not a url", "client_id": "a", "client_secret": "b"}, "valid URL"),
])
def test_bad_connection_input_is_a_clear_400(admin_client, data, message):
    response = admin_client.post(URL, data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Connection.objects.exists()


def test_list_and_detail_query_counts(manager_client, sf_connection, fake_sf, django_assert_num_queries):
    for i in range(30):
        fake_sf.put("Account", Name=f"A{i}" + ("x" * 250 if i % 3 == 0 else ""))  # too long for PRM: logged
    connection_pull(connection_id=sf_connection.pk)
    connection_pull(connection_id=sf_connection.pk)
    assert SyncLog.objects.count() >= 10 and SyncRun.objects.count() == 2
    with django_assert_num_queries(4):
        # session, user, manager check, connections
        assert manager_client.get(URL).status_code == 200
    with django_assert_num_queries(7):
        # session, user, manager check, connection, mappings, runs, one page of the log
        response = manager_client.get(reverse("crm:detail", args=[sf_connection.pk]))
    html = response.content.decode()
    assert "INVALID_VALUE" in html and "Sync now" in html and "Resync everything" not in html


@pytest.fixture
def eager():
    from prm.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_sync_now_and_resync(admin_client, sf_connection, fake_sf, eager, django_capture_on_commit_callbacks):
    fake_sf.put("Account", Name="Now")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("crm:sync", args=[sf_connection.pk]))
    assert response.status_code == 302
    assert SyncRun.objects.get(kind="pull").created == 1  # the task ran after the commit (then the push, eager too)
    assert SyncCursor.objects.filter(connection=sf_connection).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(reverse("crm:resync", args=[sf_connection.pk])).status_code == 302
    pulls = SyncRun.objects.filter(kind="pull")
    assert pulls.count() == 2 and pulls.latest("started_at").skipped == 1  # re-read, unchanged


def test_mapping_editor_lists_remote_fields_previews_and_saves(admin_client, sf_connection, fake_sf):
    fake_sf.put("Account", Name="Alpha", Industry="Retail")
    connection_pull(connection_id=sf_connection.pk)
    mapping = sf_connection.mappings.get(local_field="notes")
    url = reverse("crm:mapping", args=[sf_connection.pk, mapping.pk])
    html = admin_client.get(url).content.decode()
    assert '<option value="Industry"' in html  # from the describe call
    data = {"remote_field": "Industry", "direction": "in", "apply_on": "update", "conflict_rule": "crm_wins",
            "fixed_value": ""}
    response = admin_client.post(url, {**data, "preview": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "Retail" in html and "PRM value replaced by the CRM" in html
    assert FieldMapping.objects.get(pk=mapping.pk).remote_field == "Description"  # nothing saved
    response = admin_client.post(url, {**data, "remote_field": "Nope__c", "save": "1"})
    assert response.status_code == 400 and "valid choice" in response.content.decode()
    response = admin_client.post(url, {**data, "save": "1"})
    assert response.status_code == 302
    assert FieldMapping.objects.get(pk=mapping.pk).remote_field == "Industry"


def test_credentials_form(admin_client, sf_connection):
    Connection.objects.filter(pk=sf_connection.pk).update(status="failing", status_message="refused")
    url = reverse("crm:credentials", args=[sf_connection.pk])
    assert admin_client.post(url, {"client_id": CLIENT_ID}).status_code == 400
    assert admin_client.post(url, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).status_code == 302
    sf_connection.refresh_from_db()
    assert sf_connection.status == "ok"


def test_lead_mapping_preview_links_to_the_lead(admin_client, sf_connection, fake_sf):
    from leads.models import Lead

    remote_id = fake_sf.put("Lead", LastName="Ada", Company="Engines", Status="Open - Not Contacted")
    connection_pull(connection_id=sf_connection.pk)
    fake_sf.put("Lead", remote_id, Status="Working - Qualified")
    lead = Lead.objects.get()
    mapping = sf_connection.mappings.get(object="lead", local_field="stage")
    url = reverse("crm:mapping", args=[sf_connection.pk, mapping.pk])
    data = {"remote_field": "Status", "direction": "both", "apply_on": "update", "conflict_rule": "crm_wins",
            "fixed_value": ""}
    html = admin_client.post(url, {**data, "preview": "1"}).content.decode()
    assert reverse("leads:detail", args=[lead.pk]) in html and "qualified" in html
    assert "PRM value replaced by the CRM" in html


def test_an_empty_list_tells_a_manager_who_connects_and_an_admin_what_the_crm_user_needs(manager_client):
    page = manager_client.get(URL).content.decode()
    assert "No CRM connected yet. An administrator connects one here." in page
    assert "Add connection" not in page
    manager_client.force_login(factories.manager_user(username="admin2", is_superuser=True))
    page = manager_client.get(URL).content.decode()
    assert "An administrator connects one here." not in page
    assert "contacts, leads and opportunities" in page
