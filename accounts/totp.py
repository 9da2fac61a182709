"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), as every authenticator app reads
them from an ``otpauth://`` QR code. Pure functions; the device row and the one-use rule are accounts.services."""

import base64
import hashlib
import hmac
import io
import secrets
import struct
import time
from urllib.parse import quote, urlencode

import qrcode
from qrcode.image.svg import SvgPathImage

STEP = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of now (clock drift of the phone)


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def code_at(secret: str, counter: int) -> str:
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10 ** DIGITS:0{DIGITS}d}"


def matching_counter(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code is ``code`` (within the window), or None."""
    code = "".join(str(code or "").split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = int((time.time() if now is None else now) // STEP)
    for counter in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_at(secret, counter), code):
            return counter
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str = "PRM") -> str:
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS,
                                                   "period": STEP})


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as a data: URI of an SVG image (the page's CSP allows data: images, no inline markup)."""
    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=SvgPathImage, box_size=10, border=2).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
