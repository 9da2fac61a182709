"""The CRM sync pages at 390×844 and 1280×800: an admin opens CRM sync from the account menu, reads a connection's
status, runs and sync log, previews a mapping change on the mapping page, maps a custom field (a partner profile
field ↔ a CRM field from the CRM's list) and sees the stage mapping's per-stage values; nothing scrolls sideways, taps are
≥ 44 px, no CSP violation, nothing leaves the server (the CRM is the local fake on 127.0.0.1). Screenshots in
artifacts/ (``crm-<page>-<width>.png``)."""

import pytest

from integrations import connectors
from integrations.services import connection_create, connection_pull
from partners.models import ProfileField
from tests import factories
from tests.browser.conftest import login, open_page, screenshot
from tests.browser.test_mobile import check_layout
from tests.integrations.fake_salesforce import CLIENT_ID, CLIENT_SECRET, FakeSalesforce

VIEWPORTS = [(390, 844), (1280, 800)]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_connection_page_and_mapping_preview(browser, live_server, settings, width, height):
    connectors._DESCRIBED.clear()
    fake = FakeSalesforce().start()
    settings.CRM_CA_BUNDLE = fake.cert_path
    try:
        connection = connection_create(name="Acme org", instance_url=fake.url,
                                       credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        ProfileField.objects.create(key="segment", label="Segment")
        fake.put("Account", Name="Northwind", Industry="Retail")
        fake.put("Account", Name="y" * 230)  # too long for PRM: a line of the sync log
        connection_pull(connection_id=connection.pk)
        admin = factories.manager_user(username=f"crm-admin-{width}", is_superuser=True)
        context, page, csp, external = open_page(browser, live_server, width, height)
        try:
            login(page, live_server, admin)
            page.click("summary[aria-label='Account menu']")
            page.click(".usermenu-panel a:has-text('CRM sync')")
            page.wait_for_selector("h1:has-text('CRM sync')")
            check_layout(page, "crm connections", width)
            screenshot(page, f"crm-list-{width}")
            page.click("a:has-text('Acme org')")
            page.wait_for_selector("text=INVALID_VALUE")
            check_layout(page, "crm connection", width)
            screenshot(page, f"crm-connection-{width}")
            page.click("a:has-text('notes')")
            page.select_option("#id_remote_field", "Industry")
            page.click("button:has-text('Preview on 20 records')")
            page.wait_for_selector("td:has-text('Retail')")
            check_layout(page, "crm mapping preview", width)
            screenshot(page, f"crm-mapping-{width}")
            # A custom field in one step: a partner profile field ↔ a CRM field picked from the CRM's own list.
            page.click(".breadcrumbs a:has-text('Acme org')")
            page.click("a:has-text('Map a field: Partner ↔ Account')")
            page.select_option("#id_local_field", "profile.segment")
            page.select_option("#id_remote_field", "Industry")
            check_layout(page, "crm new mapping", width)
            screenshot(page, f"crm-mapping-add-{width}")
            page.click("button:has-text('Save')")
            page.wait_for_selector("a:has-text('profile.segment')")
            # The lead stage's values, one input per stage (an org with its own Status values).
            page.click("a:has-text('Lead ↔ Lead: stage')")
            page.wait_for_selector("label:has-text('CRM value for “Qualified”')")
            check_layout(page, "crm stage values", width)
            assert CLIENT_SECRET not in page.content()
            assert csp == [] and external == []
        finally:
            context.close()
    finally:
        fake.stop()
