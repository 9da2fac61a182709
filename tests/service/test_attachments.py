"""Ticket attachments: checked by extension AND content before anything is stored, stored under a random name,
downloaded only through the permission-checked view, always as an attachment with nosniff and a safe type."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from service import services
from service.attachments import attachment_check, clean_name
from service.models import TicketAttachment, TicketComment
from tests import factories

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
GIF = b"GIF89a" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60


def office(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<document/>")
    return buffer.getvalue()


def xlsx() -> bytes:
    buffer = io.BytesIO()
    book = Workbook()
    book.active["A1"] = "serial"
    book.save(buffer)
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.mark.parametrize(("name", "content", "served_as"), [
    ("invoice.pdf", PDF, "application/pdf"),
    ("photo.PNG", PNG, "image/png"),
    ("photo.jpg", JPEG, "image/jpeg"),
    ("photo.jpeg", JPEG, "image/jpeg"),
    ("anim.gif", GIF, "image/gif"),
    ("pic.webp", WEBP, "image/webp"),
    ("notes.txt", "Serial: 123 — ünïcödé\n".encode(), "text/plain; charset=utf-8"),
    ("export.csv", b"serial,qty\n123,4\n", "text/csv; charset=utf-8"),
    ("report.docx", office("word/document.xml"), "application/vnd.openxmlformats-officedocument"
                                                 ".wordprocessingml.document"),
    ("stock.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
])
def test_allowed_files_pass_with_the_type_they_really_are(name, content, served_as):
    checked = attachment_check(upload(name, content))
    assert checked.content_type == served_as and checked.size == len(content)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("page.html", HTML, "Files of type .html are not accepted"),
    ("page.htm", HTML, "Files of type .htm are not accepted"),
    ("logo.svg", SVG, "Files of type .svg are not accepted"),
    ("app.js", b"alert(1)", "Files of type .js are not accepted"),
    ("setup.exe", EXE, "Files of type .exe are not accepted"),
    ("macro.docm", office("word/document.xml"), "Files of type .docm are not accepted"),
    ("archive.zip", office("x.txt"), "Files of type .zip are not accepted"),
    ("README", b"hello", "has no file type in its name"),
    ("photo.pdf", PNG, "The file's content is not a PDF document (it looks like a PNG image)"),
    ("invoice.png", PDF, "The file's content is not a PNG image (it looks like a PDF document)"),
    ("notes.txt", HTML, "not a text file (it looks like a web page or SVG image (HTML/XML))"),
    ("data.csv", b"  \n<svg onload=alert(1)>", "not a CSV file"),
    ("image.png", SVG, "not a PNG image (it looks like a web page or SVG image"),
    ("binary.txt", b"abc\x00def", "not a text file"),
    ("report.docx", xlsx(), "not a Word document"),
    ("report.docx", b"PK\x03\x04 not really a zip", "not a Word document"),
    ("report.xlsx", EXE, "not a Excel workbook"),
    ("empty.pdf", b"", "The file is empty."),
])
def test_refused_files_name_the_problem(name, content, message):
    with pytest.raises(ValidationError) as error:
        attachment_check(upload(name, content))
    assert list(error.value.message_dict) == ["file"]
    assert message in error.value.message_dict["file"][0]


def test_the_size_limit_is_a_setting(settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1024
    attachment_check(upload("ok.png", PNG.ljust(1024, b"\x00")))
    with pytest.raises(ValidationError) as error:
        attachment_check(upload("big.png", PNG.ljust(2 * 1024 * 1024, b"\x00")))
    assert error.value.message_dict == {"file": ["The file is 2 MB: the limit is 1 KB."]}
    settings.TICKET_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as error:
        attachment_check(upload("small.png", PNG.ljust(500, b"\x00")))
    assert error.value.message_dict == {"file": ["The file is 500 bytes: the limit is 100 bytes."]}


def test_the_default_limit_is_10_mb():
    with pytest.raises(ValidationError) as error:
        attachment_check(upload("big.pdf", PDF + b"\x00" * (10 * 1024 * 1024)))
    assert error.value.message_dict["file"][0].endswith("the limit is 10 MB.")


def test_the_allowed_types_are_a_setting(settings):
    settings.TICKET_ATTACHMENT_EXTENSIONS = ["pdf", "exe"]  # an extension without a content check is ignored
    attachment_check(upload("a.pdf", PDF))
    for name, content in (("a.png", PNG), ("a.exe", EXE)):
        with pytest.raises(ValidationError):
            attachment_check(upload(name, content))


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\me\\Desktop\\scan.PDF", "scan.pdf"),
    ("bad\x00name\u202e\n.png", "badname.png"),
    ("   .png", "attachment.png"),
    ("x" * 300 + ".csv", "x" * 146 + ".csv"),
])
def test_names_are_cleaned(raw, clean):
    extension = clean.rsplit(".", 1)[1]
    assert clean_name(raw, extension) == clean


def test_attach_stores_under_a_random_name(customer, rep, media_root):
    ticket = factories.ticket(customer)
    attachment = services.ticket_attach(ticket=ticket, by=rep, upload=upload("../../invoice.pdf", PDF))
    assert attachment.original_name == "invoice.pdf" and attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF) and attachment.uploaded_by == rep
    stored = Path(attachment.file.path)
    assert stored.read_bytes() == PDF and stored.is_relative_to(media_root / "tickets")
    assert "invoice" not in stored.name and stored.suffix == "" and len(stored.name) == 32
    # A double submit (same name and size within the window) stores it once.
    again = services.ticket_attach(ticket=ticket, by=rep, upload=upload("invoice.pdf", PDF))
    assert again.pk == attachment.pk and TicketAttachment.objects.count() == 1


def test_a_refused_file_writes_nothing(customer, rep, media_root):
    ticket = factories.ticket(customer)
    with pytest.raises(ValidationError):
        services.ticket_comment(ticket=ticket, by=rep, body="See the screenshot", upload=upload("shot.pdf", PNG))
    assert not TicketComment.objects.exists() and not TicketAttachment.objects.exists()
    assert not any(path.is_file() for path in Path(media_root).rglob("*"))
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None  # the comment's first response was rolled back with it


def test_a_comment_with_a_file(customer, rep):
    ticket = factories.ticket(customer)
    comment = services.ticket_comment(ticket=ticket, by=rep, body="", upload=upload("shot.png", PNG))
    assert comment.body == "Attached a file."
    assert list(comment.attachments.values_list("original_name", flat=True)) == ["shot.png"]


# --- The download view ----------------------------------------------------------------------------------------------


def download_url(attachment, ticket_pk=None):
    return f"/tickets/{ticket_pk or attachment.ticket_id}/files/{attachment.pk}/"


def test_download_is_an_attachment_with_nosniff_and_a_safe_type(rep_client, customer, rep):
    ticket = factories.ticket(customer)
    attachment = services.ticket_attach(ticket=ticket, by=rep, upload=upload("notes.txt", b"plain <b>text</b>"))
    response = rep_client.get(download_url(attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"plain <b>text</b>"
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"]


def test_a_stored_type_we_do_not_know_is_served_as_bytes(rep_client, customer, rep):
    ticket = factories.ticket(customer)
    attachment = services.ticket_attach(ticket=ticket, by=rep, upload=upload("a.png", PNG))
    TicketAttachment.objects.filter(pk=attachment.pk).update(content_type="text/html")  # e.g. a row edited by hand
    response = rep_client.get(download_url(attachment))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


def test_download_is_scoped_like_the_ticket(client, rep, other_rep, manager, customer, other_customer):
    mine = factories.ticket(customer)
    attachment = services.ticket_attach(ticket=mine, by=rep, upload=upload("a.pdf", PDF))
    theirs = factories.ticket(other_customer)

    client.force_login(other_rep)
    assert client.get(download_url(attachment)).status_code == 404
    assert client.get(download_url(attachment, ticket_pk=theirs.pk)).status_code == 404  # their ticket, my file
    client.force_login(rep)
    assert client.get(download_url(attachment)).status_code == 200
    assert client.get(download_url(attachment, ticket_pk=theirs.pk)).status_code == 404
    assert client.get(f"/tickets/{mine.pk}/files/999999/").status_code == 404
    client.force_login(manager)
    assert client.get(download_url(attachment)).status_code == 200
    client.logout()
    assert client.get(download_url(attachment)).status_code == 302  # to the login page


def test_a_missing_file_is_a_404(rep_client, customer, rep):
    attachment = services.ticket_attach(ticket=factories.ticket(customer), by=rep, upload=upload("a.pdf", PDF))
    Path(attachment.file.path).unlink()
    assert rep_client.get(download_url(attachment)).status_code == 404
