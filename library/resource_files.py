"""What a library file may be: checked by its name's extension AND by its content, before anything is stored.

Decisions (those of ticket attachments, ``service.attachments``, whose checkers are reused):
- An allow-list: PDF, Word/Excel/PowerPoint (.docx/.xlsx/.pptx: a ZIP whose directory holds that kind of document's
  parts; nothing is extracted), PNG, JPEG, plain text, CSV, MP4 video. HTML, SVG, scripts, executables, archives and
  macro-enabled Office formats are refused.
- The content must be what the extension says (magic bytes): a PNG renamed ``.pdf`` or an HTML page renamed ``.txt``
  is refused, so what a download is served as (``content_type_for``) is what the file really is.
- Size: ``settings.LIBRARY_MAX_BYTES`` (25 MB by default).
- The stored name is random (``storage_name``); the uploaded name, cleaned, is kept for the download.
"""

import secrets
import zipfile

from django.conf import settings

from service.attachments import KINDS as TICKET_KINDS
from service.attachments import CheckedFile, FileKind, file_check


def _pptx(head: bytes, upload) -> bool:
    if not head.startswith(b"PK\x03\x04"):
        return False
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return "[Content_Types].xml" in names and "ppt/presentation.xml" in names


def _mp4(head: bytes, _upload) -> bool:
    """An ISO base media file: a first box of type ``ftyp`` (bytes 4–8)."""
    return len(head) >= 12 and head[4:8] == b"ftyp"


KINDS: dict[str, FileKind] = {
    **{ext: TICKET_KINDS[ext] for ext in ("pdf", "docx", "xlsx", "png", "jpg", "jpeg", "txt", "csv")},
    "pptx": FileKind("PowerPoint presentation",
                     "application/vnd.openxmlformats-officedocument.presentationml.presentation", _pptx),
    "mp4": FileKind("MP4 video", "video/mp4", _mp4),
}
SAFE_TYPES = {kind.content_type for kind in KINDS.values()}
ACCEPT = ",".join(f".{ext}" for ext in KINDS)


def max_bytes() -> int:
    return int(getattr(settings, "LIBRARY_MAX_BYTES", 25 * 1024 * 1024))


def describe_allowed() -> str:
    return ", ".join(f".{ext}" for ext in KINDS)


def extension_of(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(".")
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def content_type_for(name: str) -> str:
    """What a stored file is served as (from its checked extension); anything else: application/octet-stream."""
    kind = KINDS.get(extension_of(name))
    return kind.content_type if kind else "application/octet-stream"


def storage_name(extension: str) -> str:
    """A random name for the storage (the model's upload_to adds library/YYYY/MM/)."""
    return f"{secrets.token_hex(16)}.{extension}"


def library_file_check(upload) -> CheckedFile:
    """Check an uploaded file (Django's ``UploadedFile``); ValidationError on ``file`` naming what is wrong."""
    return file_check(upload, kinds=KINDS, limit=max_bytes())
