"""The development mailbox: the email Django's file backend wrote to ``EMAIL_FILE_PATH`` (``var/mail/``), read back.

With ``make run`` and no ``EMAIL_URL`` every email the app sends (reminders, digests) lands in that folder instead of
going out; /dev/mailbox/ (devtools.views, only with DEBUG on) lists them newest first and shows one. Nothing is stored
anywhere else: the files are the mailbox, so deleting them empties it.

Decisions:
- Django's own file backend writes the files (no backend of ours to maintain). It appends each message of one
  connection to one ``<timestamp>-<id>.log`` file, each followed by a line of 79 dashes. A message's bytes always
  start with its ``Content-Type:`` header, so a separator counts only where the next message (or the end) follows:
  a line of dashes inside a text body does not split it.
- Bounded reading: only the newest ``MAX_FILES`` files (by modification time) are opened for the list.
- A message is addressed by its file's name and its position in that file; the name must be a plain file name
  matching Django's pattern, so no path outside the folder can be asked for.
"""

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

MAX_FILES = 200
FILE_NAME = re.compile(r"\A[\w.-]+\.log\Z")
SEPARATOR = re.compile(rb"\n-{79}\n(?=Content-Type:|\Z)")


@dataclass(frozen=True)
class MailboxMessage:
    file_name: str
    index: int
    subject: str
    sender: str
    to: str
    date: datetime
    text: str  # the text/plain part ("" when there is none)
    html: str  # the text/html part ("" when there is none)
    attachments: tuple[str, ...]  # their file names (or content types)


def mailbox_messages(*, folder: Path, limit: int = 100) -> list[MailboxMessage]:
    """The newest ``limit`` messages of the newest ``MAX_FILES`` files in ``folder``, newest first."""
    files = sorted(_mail_files(folder), key=lambda path: path.stat().st_mtime, reverse=True)[:MAX_FILES]
    messages = [message for path in files for message in _read(path)]
    messages.sort(key=lambda m: (m.date, m.file_name, m.index), reverse=True)
    return messages[:limit]


def mailbox_message_get(*, folder: Path, file_name: str, index: int) -> MailboxMessage | None:
    """One message, by its file's name and position; None when there is no such file or message."""
    if not FILE_NAME.match(file_name):
        return None
    path = folder / file_name
    if path.parent != folder or not path.is_file():
        return None
    messages = _read(path)
    return messages[index] if 0 <= index < len(messages) else None


def _mail_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [path for path in folder.iterdir() if FILE_NAME.match(path.name) and path.is_file()]


def _read(path: Path) -> list[MailboxMessage]:
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    chunks = [chunk for chunk in SEPARATOR.split(path.read_bytes()) if chunk.strip()]
    return [_message(path.name, index, chunk, modified) for index, chunk in enumerate(chunks)]


def _message(file_name: str, index: int, raw: bytes, modified: datetime) -> MailboxMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    try:
        date = parsedate_to_datetime(message["Date"]) if message["Date"] else modified
    except (TypeError, ValueError):
        date = modified
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return MailboxMessage(
        file_name=file_name,
        index=index,
        subject=str(message["Subject"] or "").strip(),
        sender=str(message["From"] or "").strip(),
        to=", ".join(str(message[header]).strip() for header in ("To", "Cc") if message[header]),
        date=date,
        text=text.get_content() if text is not None else "",
        html=html.get_content() if html is not None else "",
        attachments=tuple(part.get_filename() or part.get_content_type() for part in message.iter_attachments()),
    )
