"""What a ticket attachment may be: checked by its name's extension AND by its content, before anything is stored.

Decisions:
- An allow-list, never a deny-list: PDF, PNG, JPEG, GIF, WebP, plain text, CSV, Word (.docx) and Excel (.xlsx)
  (``settings.TICKET_ATTACHMENT_EXTENSIONS`` narrows it; an extension without a checker below is ignored). Anything
  else — HTML, SVG, JavaScript, executables, archives, old Office formats with macros — is refused.
- The content must be what the extension says (magic bytes; an Office file must be a ZIP holding the parts of that
  kind of document, read from the ZIP's directory only, nothing is extracted): a PNG renamed ``.pdf`` or an HTML page
  renamed ``.txt`` is refused, so the type a file is served as is always the type it really is.
- What it is served as comes from this table, never from the browser's ``Content-Type``; the download is always an
  attachment with ``X-Content-Type-Options: nosniff`` (service.views): even a text file holding markup is never
  rendered by the browser.
- Size: ``settings.TICKET_ATTACHMENT_MAX_BYTES`` (10 MB by default); the view refuses a larger request before
  reading its body.
"""

import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

HEAD_BYTES = 8192
MARKUP_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<svg", b"<?xml", b"<script", b"<iframe", b"<object",
                 b"<embed", b"<meta", b"<style", b"<a ", b"<img", b"<div", b"<form")


def _text(head: bytes, upload) -> bool:
    """Plain text: no NUL byte anywhere, and not markup a browser would sniff as HTML/SVG/XML."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(MARKUP_STARTS):
        return False
    upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b""):
        if b"\x00" in chunk:
            return False
    return True


def _ooxml(part: str) -> Callable[[bytes, object], bool]:
    """A .docx/.xlsx: a ZIP whose directory lists ``[Content_Types].xml`` and the document's main ``part``."""

    def check(head: bytes, upload) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        upload.seek(0)
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return False
        return "[Content_Types].xml" in names and part in names

    return check


@dataclass(frozen=True)
class FileKind:
    label: str  # for people: "PDF document"
    content_type: str  # what the download is served as
    check: Callable[[bytes, object], bool]  # (the first HEAD_BYTES, the file) → is it really this kind


_PDF = FileKind("PDF document", "application/pdf", lambda head, _f: head.startswith(b"%PDF-"))
_PNG = FileKind("PNG image", "image/png", lambda head, _f: head.startswith(b"\x89PNG\r\n\x1a\n"))
_JPEG = FileKind("JPEG image", "image/jpeg", lambda head, _f: head.startswith(b"\xff\xd8\xff"))
_GIF = FileKind("GIF image", "image/gif", lambda head, _f: head[:6] in (b"GIF87a", b"GIF89a"))
_WEBP = FileKind("WebP image", "image/webp", lambda head, _f: head[:4] == b"RIFF" and head[8:12] == b"WEBP")
_DOCX = FileKind("Word document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 _ooxml("word/document.xml"))
_XLSX = FileKind("Excel workbook", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 _ooxml("xl/workbook.xml"))
KINDS: dict[str, FileKind] = {
    "pdf": _PDF,
    "png": _PNG,
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "gif": _GIF,
    "webp": _WEBP,
    "txt": FileKind("text file", "text/plain; charset=utf-8", _text),
    "csv": FileKind("CSV file", "text/csv; charset=utf-8", _text),
    "docx": _DOCX,
    "xlsx": _XLSX,
}
# Binary kinds tried to say what a refused file "looks like" (text last: almost anything passes as text).
_SNIFF_ORDER = ("pdf", "png", "jpg", "gif", "webp", "docx", "xlsx")
_MARKUP_LABEL = "web page or SVG image (HTML/XML)"


@dataclass(frozen=True)
class CheckedFile:
    name: str  # the name to show and to download as (cleaned)
    extension: str
    content_type: str
    size: int


def allowed_extensions() -> list[str]:
    return [ext for ext in getattr(settings, "TICKET_ATTACHMENT_EXTENSIONS", KINDS) if ext in KINDS]


def max_bytes() -> int:
    return int(getattr(settings, "TICKET_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))


def megabytes(size: int) -> str:
    """A file size for people: "10 MB", "2.5 MB", "12 KB" (rounded up), "500 bytes"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{-(-size // 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def clean_name(name: str, extension: str) -> str:
    """The uploaded file's name as shown and downloaded: no folders, no control or format characters, squeezed
    spaces, at most 150 characters (the extension kept)."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split())
    stem = name[: -(len(extension) + 1)] if name.lower().endswith(f".{extension}") else name
    stem = stem.strip(" .")[: 150 - len(extension) - 1].strip(" .") or "attachment"
    return f"{stem}.{extension}"


def _extension(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1].strip().rstrip(".")
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def describe_allowed() -> str:
    return ", ".join(f".{ext}" for ext in allowed_extensions())


def attachment_check(upload) -> CheckedFile:
    """Check an uploaded file (Django's ``UploadedFile``: ``name``, ``size``, ``read``/``seek``/``chunks``); returns
    what to store, or raises ValidationError on the ``file`` field naming what is wrong."""
    return file_check(upload, kinds={ext: KINDS[ext] for ext in allowed_extensions()}, limit=max_bytes(),
                      verb="attach")


def file_check(upload, *, kinds: dict[str, FileKind], limit: int, verb: str = "upload") -> CheckedFile:
    """The one upload check of the project (ticket attachments, library files, onboarding documents): the name's
    extension must be one of ``kinds``, the size at most ``limit`` bytes, and the content what the extension says
    (``FileKind.check`` on its first bytes); ValidationError on ``file`` naming what is wrong, worded with ``verb``
    ("attach", "upload")."""
    name = getattr(upload, "name", "") or ""
    size = getattr(upload, "size", None)
    allowed = ", ".join(f".{ext}" for ext in kinds)
    if upload is None or size is None:
        raise ValidationError({"file": f"Choose a file to {verb}."})
    extension = _extension(name)
    if not extension:
        raise ValidationError({"file": f"“{name[:80]}” has no file type in its name: {verb} one of {allowed}."})
    if extension not in kinds:
        raise ValidationError({"file": f"Files of type .{extension[:20]} are not accepted: {verb} one of {allowed}."})
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if size > limit:
        raise ValidationError({"file": f"The file is {megabytes(size)}: the limit is {megabytes(limit)}."})
    kind = kinds[extension]
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    ok = kind.check(head, upload)
    upload.seek(0)
    if not ok:
        done = "attached" if verb == "attach" else "uploaded"
        raise ValidationError({"file": f"The file's content is not a {kind.label}{_looks_like(head, upload)}: "
                                       f"it was not {done}."})
    return CheckedFile(name=clean_name(name, extension), extension=extension, content_type=kind.content_type,
                       size=size)


def _looks_like(head: bytes, upload) -> str:
    """" (it looks like a PNG image)" for a file whose content is of another kind we know, else ""."""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(MARKUP_STARTS):
        return f" (it looks like a {_MARKUP_LABEL})"
    for extension in _SNIFF_ORDER:
        kind = KINDS[extension]
        if kind.check(head, upload):
            upload.seek(0)
            return f" (it looks like a {kind.label})"
    upload.seek(0)
    return ""
