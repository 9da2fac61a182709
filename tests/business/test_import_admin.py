"""The admin upload: choose file and format → preview (dry run) → confirm, for managers only."""

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.core import signing
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from business import admin_views
from business.models import Achievement, Target, UploadBatch
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "partner_code,parameter,period,value\n"
CSV_FORMAT = "0"  # import_formats = [CSV, XLSX]
PAGES = [
    ("achievement", "import"), ("achievement", "process_import"), ("target", "import"), ("target", "process_import"),
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def partners(db):
    return [factories.PartnerFactory(code=code, assigned_to=None) for code in ("P1", "P2")]


def url(model, page):
    return reverse(f"admin:business_{model}_{page}")


def upload(client, content, *, model="achievement", name="upload.csv", file_format=CSV_FORMAT):
    file = SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content, "text/csv")
    return client.post(url(model, "import"), {"import_file": file, "format": file_format, "resource": "0"})


def stored_files(media):
    folder = media / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# Permissions --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "page"), PAGES)
def test_rep_gets_403_on_import_pages(rep_client, partners, model, page):
    assert rep_client.get(url(model, page)).status_code == 403
    assert upload(rep_client, HEADER + "P1,revenue,2025-01,1\n", model=model).status_code == 403
    assert rep_client.post(url(model, page), {"token": "x"}).status_code == 403
    assert Achievement.objects.count() == Target.objects.count() == 0


@pytest.mark.parametrize(("model", "page"), PAGES)
def test_staff_without_the_import_permission_gets_403(client, model, page):
    user = factories.rep_user(username="staffrep", is_staff=True)
    client.force_login(user)

    assert client.get(url(model, page)).status_code == 403
    assert client.post(url(model, page)).status_code == 403


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get(url("achievement", "import"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_manager_sees_import_and_export_buttons(manager_client):
    response = manager_client.get(reverse("admin:business_achievement_changelist"))

    assert response.status_code == 200
    assert url("achievement", "import") in response.text
    assert reverse("admin:business_achievement_export") in response.text


def test_rep_changelist_has_no_import_button(client):
    user = factories.rep_user(username="staffrep", is_staff=True)
    client.force_login(user)

    response = client.get(reverse("admin:business_achievement_changelist"))

    assert response.status_code == 200
    assert url("achievement", "import") not in response.text


# Preview and confirm ------------------------------------------------------------------------------------------------


def test_import_page_shows_the_form(manager_client):
    response = manager_client.get(url("achievement", "import"))

    assert response.status_code == 200
    assert 'name="import_file"' in response.text
    assert "partner_code, parameter, period, value" in response.text


def test_preview_then_confirm(manager_client, manager, partners, media):
    factories.parameter("revenue")
    Achievement.objects.create(partner=partners[0], parameter=factories.parameter(), period_start=date(2025, 1, 1),
                               value=Decimal("5"), source="upload")
    content = HEADER + "P1,revenue,2025-01,5\nP2,revenue,2025-01,7\nP1,revenue,2025-02,1\n"

    with mock.patch.object(admin_views, "import_period_values", wraps=admin_views.import_period_values) as service:
        preview = upload(manager_client, content)

        assert preview.status_code == 200
        assert service.call_args.kwargs["dry_run"] is True
        rows = preview.context["result"].preview
        assert [(r.row, r.status) for r in rows] == [(2, "unchanged"), (3, "new"), (4, "new")]
        assert 'id="confirm-import"' in preview.text
        assert Achievement.objects.count() == 1  # nothing written by the preview
        assert UploadBatch.objects.count() == 0
        assert len(stored_files(media)) == 1

        token = preview.context["confirm_form"].initial["token"]
        confirmed = manager_client.post(url("achievement", "process_import"), {"token": token})

        assert service.call_count == 2
        assert service.call_args.kwargs["dry_run"] is False  # the same service as the command, for real

    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("admin:business_achievement_changelist")
    assert Achievement.objects.count() == 3
    batch = UploadBatch.objects.get()
    assert (batch.uploaded_by, batch.file_name, batch.rows_created, batch.rows_unchanged) == (manager, "upload.csv", 2, 1)
    assert stored_files(media) == []  # the stored upload is gone
    page = manager_client.get(confirmed["Location"])
    assert "3 rows: 2 new, 0 updated, 1 unchanged, 0 errors." in page.text

    again = manager_client.post(url("achievement", "process_import"), {"token": token})  # a double submit
    assert again.status_code == 302 and again["Location"] == url("achievement", "import")
    assert UploadBatch.objects.count() == 1


def test_targets_page_imports_targets(manager_client, partners):
    preview = upload(manager_client, HEADER + "P1,revenue,2025-01,100\n", model="target")
    token = preview.context["confirm_form"].initial["token"]

    manager_client.post(url("target", "process_import"), {"token": token})

    assert Target.objects.get().value == Decimal("100")
    assert Achievement.objects.count() == 0


def test_xlsx_upload(manager_client, partners):
    from tests.business.test_imports import xlsx_bytes

    data = xlsx_bytes([["partner_code", "parameter", "period", "value"], ["P1", "revenue", "2025-03", 3]])
    preview = upload(manager_client, data, name="upload.xlsx", file_format="1")

    assert preview.context["result"].ok
    manager_client.post(url("achievement", "process_import"), {"token": preview.context["confirm_form"].initial["token"]})
    assert Achievement.objects.get().value == Decimal("3")


def test_errors_are_listed_escaped_and_nothing_can_be_confirmed(manager_client, partners, media):
    content = HEADER + "<script>alert(1)</script>,revenue,2025-01,1\nP1,revenue,2025-01,<b>x</b>\n"

    response = upload(manager_client, content)

    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "<b>x</b>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "Row 2, column partner_code: unknown partner code &#x27;&lt;script&gt;" in response.text
    assert "Row 3, column value: &#x27;&lt;b&gt;x&lt;/b&gt;&#x27; is not a number" in response.text
    assert "confirm_form" not in response.context or response.context.get("confirm_form") is None
    assert 'id="confirm-import"' not in response.text
    assert stored_files(media) == []
    assert Achievement.objects.count() == 0


def test_oversize_upload_is_refused(manager_client, partners, settings, media):
    settings.IMPORT_MAX_BYTES = 100

    response = upload(manager_client, HEADER + "P1,revenue,2025-01,1\n" * 10)

    assert response.status_code == 200
    assert "the limit is 0.0 MB (setting IMPORT_MAX_BYTES)" in response.text
    assert stored_files(media) == []


def test_confirm_refuses_a_tampered_or_foreign_token(manager_client, partners):
    preview = upload(manager_client, HEADER + "P1,revenue,2025-01,1\n")
    token = preview.context["confirm_form"].initial["token"]
    forged = signing.dumps({"path": "../../etc/passwd", "name": "x.csv", "format": "csv"}, salt="wrong")

    for bad in (token + "x", forged, ""):
        response = manager_client.post(url("achievement", "process_import"), {"token": bad})
        assert response.status_code == 302 and response["Location"] == url("achievement", "import")

    other = factories.manager_user(username="manager2")
    manager_client.force_login(other)  # someone else's preview cannot be confirmed
    response = manager_client.post(url("achievement", "process_import"), {"token": token})
    assert response["Location"] == url("achievement", "import")
    assert Achievement.objects.count() == 0


def test_a_signed_path_outside_the_upload_folder_is_refused(manager_client, manager):
    salt = f"{admin_views.SIGNING_SALT}:achievements:{manager.pk}"
    token = signing.dumps({"path": "imports/../../settings.py", "name": "x.csv", "format": "csv"}, salt=salt)

    with mock.patch.object(default_storage, "open") as opened:
        response = manager_client.post(url("achievement", "process_import"), {"token": token})

    assert not opened.called
    assert response["Location"] == url("achievement", "import")


def test_process_import_needs_post(manager_client):
    assert manager_client.get(url("achievement", "process_import")).status_code == 405


# Stored previews expire ---------------------------------------------------------------------------------------------


def test_the_task_deletes_expired_previews_and_keeps_fresh_ones(manager_client, partners, media):
    import os
    import time

    from business import tasks
    from business.imports import CONFIRM_MAX_AGE

    upload(manager_client, HEADER + "P1,revenue,2025-01,1\n")  # a clean preview, never confirmed
    upload(manager_client, HEADER + "P2,revenue,2025-01,1\n")
    old, fresh = stored_files(media)
    stale = time.time() - CONFIRM_MAX_AGE - 60
    os.utime(media / "imports" / old, (stale, stale))
    (media / "imports" / "notes.txt").write_text("not an upload")  # not ours: left alone, even when old
    os.utime(media / "imports" / "notes.txt", (stale, stale))

    assert tasks.delete_stale_uploads.apply().get() == 1

    assert stored_files(media) == sorted([fresh, "notes.txt"])


def test_the_task_without_an_upload_folder(media):
    from business import tasks

    assert tasks.delete_stale_uploads.apply().get() == 0


# Upload batches are an audit trail ----------------------------------------------------------------------------------


def test_upload_batches_cannot_be_changed_or_deleted_in_the_admin(admin_client, manager_client, partners):
    preview = upload(manager_client, HEADER + "P1,revenue,2025-01,1\n")
    manager_client.post(url("achievement", "process_import"), {"token": preview.context["confirm_form"].initial["token"]})
    batch = UploadBatch.objects.get()

    assert admin_client.get(reverse("admin:business_uploadbatch_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:business_uploadbatch_change", args=[batch.pk])).status_code == 200  # view
    assert admin_client.post(reverse("admin:business_uploadbatch_change", args=[batch.pk]),
                             {"file_name": "x"}).status_code == 403
    assert admin_client.post(reverse("admin:business_uploadbatch_delete", args=[batch.pk]),
                             {"post": "yes"}).status_code == 403
    changelist = admin_client.post(reverse("admin:business_uploadbatch_changelist"),
                                   {"action": "delete_selected", "_selected_action": [batch.pk], "post": "yes"})
    assert changelist.status_code in (200, 302)
    assert UploadBatch.objects.get().file_name == "upload.csv"
