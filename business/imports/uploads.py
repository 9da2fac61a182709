"""Stored uploads: the admin keeps a previewed file under MEDIA_ROOT/imports until it is confirmed or expires.

Names are random (``imports/<32 hex>.<csv|xlsx>``) and checked against ``STORED_NAME`` before any use, so a signed but
foreign path can never be opened. ``uploads_delete_stale`` (run by the task ``business.tasks.delete_stale_uploads``)
deletes previews never confirmed within ``CONFIRM_MAX_AGE``.
"""

import re
import uuid
from datetime import datetime, timedelta
from typing import BinaryIO

from django.core.files.storage import default_storage
from django.utils import timezone

UPLOAD_DIR = "imports"
STORED_NAME = re.compile(rf"^{UPLOAD_DIR}/[0-9a-f]{{32}}\.(csv|xlsx)$")
CONFIRM_MAX_AGE = 24 * 3600  # seconds a preview can be confirmed; older uploads are deleted


def upload_name_is_valid(name: str) -> bool:
    return bool(STORED_NAME.match(name))


def upload_store(*, file: BinaryIO, file_format: str) -> str:
    """Store ``file`` under a new random name; return the name."""
    return default_storage.save(f"{UPLOAD_DIR}/{uuid.uuid4().hex}.{file_format}", file)


def upload_exists(*, name: str) -> bool:
    return upload_name_is_valid(name) and default_storage.exists(name)


def upload_open(*, name: str) -> BinaryIO:
    if not upload_name_is_valid(name):
        raise ValueError(f"not a stored upload: {name!r}")
    return default_storage.open(name, "rb")


def upload_delete(*, name: str) -> None:
    if upload_name_is_valid(name):
        default_storage.delete(name)


def uploads_delete_stale(*, now: datetime | None = None) -> int:
    """Delete stored uploads older than CONFIRM_MAX_AGE (previews never confirmed); return how many."""
    try:
        _, names = default_storage.listdir(UPLOAD_DIR)
    except FileNotFoundError:
        return 0
    cutoff = (now or timezone.now()) - timedelta(seconds=CONFIRM_MAX_AGE)
    deleted = 0
    for name in names:
        stored = f"{UPLOAD_DIR}/{name}"
        try:
            if upload_name_is_valid(stored) and default_storage.get_modified_time(stored) < cutoff:
                default_storage.delete(stored)
                deleted += 1
        except FileNotFoundError:  # deleted meanwhile (confirmed, or another worker)
            continue
    return deleted
