"""A manager uploads a small CSV in the admin, sees the preview, confirms, and finds the values on the trendline."""

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from business import periods
from business.models import Achievement, Parameter, UploadBatch
from tests import factories
from tests.browser.conftest import login, screenshot


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_manager_uploads_achievements_and_sees_them_on_the_trendline(page, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    manager = factories.manager_user(username="upload-manager")
    partner = factories.PartnerFactory(code="UP-1", name="Upload Partner", assigned_to=None)
    Parameter.objects.create(code="orders", name="Orders", unit="count", frequency="monthly", source="uploaded")
    last, previous = reversed(periods.last_periods("monthly", 2, timezone.localdate()))
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(
        "partner_code,parameter,period,value\n"
        f"UP-1,orders,{periods.label(previous, 'monthly')},17\n"
        f"UP-1,orders,{periods.label(last, 'monthly')},23.5\n"
    )

    login(page, live_server, manager)
    page.goto(f"{live_server.url}/admin/business/achievement/")
    page.click("a[href$='/admin/business/achievement/import/']")
    page.set_input_files("#id_import_file", str(csv_file))
    page.select_option("#id_format", label="csv")
    page.click("#import-form input[type=submit]")

    preview = page.locator("#import-preview")
    preview.wait_for()
    assert preview.locator("tbody tr.new").count() == 2
    assert "UP-1" in preview.inner_text()
    screenshot(page, "admin_upload_preview")
    assert Achievement.objects.count() == 0  # the preview wrote nothing

    page.click("#confirm-import input[type=submit]")
    page.wait_for_url("**/admin/business/achievement/")
    assert "2 rows: 2 new, 0 updated, 0 unchanged, 0 errors." in page.inner_text(".messagelist")
    assert "Upload Partner" in page.inner_text("#result_list")
    batch = UploadBatch.objects.get()
    assert (batch.uploaded_by, batch.file_name, batch.rows_created) == (manager, "orders.csv", 2)
    assert sorted(Achievement.objects.values_list("value", "source")) == [(Decimal("17"), "upload"),
                                                                         (Decimal("23.5"), "upload")]

    page.goto(f"{live_server.url}/partners/{partner.pk}/?parameter=orders")
    figure = json.loads(page.locator("#trend-data").text_content())
    generated = next(trace for trace in figure["data"] if trace["name"] == "Generated")
    by_period = dict(zip(generated["x"], generated["y"], strict=True))
    assert by_period[periods.label(previous, "monthly")] == 17
    assert by_period[periods.label(last, "monthly")] == 23.5
    screenshot(page, "admin_upload_trendline")
    assert page.external_requests == []

