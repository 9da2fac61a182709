"""Strict parsing of environment variables (after healthchecks' envbool)."""

import os
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, not {raw!r}")


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name, default):
    """An absolute http(s) URL with a host and no query or fragment (e.g. SITE_URL), without its trailing slash."""
    raw = os.environ.get(name)
    value = default if raw is None or raw.strip() == "" else raw.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must be an absolute http(s) URL such as https://prm.example.com, not {raw!r}")
    return value.rstrip("/")


# EMAIL_URL schemes: Django's SMTP backend with no encryption, STARTTLS or implicit TLS; the console and file backends.
_SMTP = "django.core.mail.backends.smtp.EmailBackend"
_EMAIL_SCHEMES = {
    "smtp": (_SMTP, 25),
    "smtp+tls": (_SMTP, 587),
    "smtp+ssl": (_SMTP, 465),
    "console": ("django.core.mail.backends.console.EmailBackend", None),
    "file": ("django.core.mail.backends.filebased.EmailBackend", None),
}


def env_email_url(name):
    """Django's EMAIL_* settings from a URL, or ``{}`` when ``name`` is unset.

    ``smtp+tls://user:password@smtp.example.com:587`` (STARTTLS; port 587 by default), ``smtp+ssl://…`` (TLS from
    the first byte; 465), ``smtp://host`` (no encryption; 25), ``console://``, ``file:///absolute/folder``. The user
    and password are percent-decoded (``%40`` for ``@``). ``?timeout=SECONDS`` (default 10) bounds each SMTP call,
    so a hung mail server cannot hold a worker for ever. Anything else is refused with an error naming ``name`` —
    never quoting the URL, which may hold a password.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    scheme = raw.partition(":")[0].lower()
    if scheme not in _EMAIL_SCHEMES or not raw[len(scheme):].startswith("://"):
        hint = " (ambiguous: use smtp+ssl:// for TLS on 465 or smtp+tls:// for STARTTLS on 587)" if scheme == "smtps" else ""
        raise ImproperlyConfigured(
            f"{name} must start with smtp://, smtp+tls://, smtp+ssl://, console:// or file://, not {scheme!r}{hint}"
        )
    backend, default_port = _EMAIL_SCHEMES[scheme]
    url = urlsplit(raw)
    query = parse_qs(url.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"timeout"})
    if unknown:
        raise ImproperlyConfigured(f"{name} has unknown options {unknown}: only ?timeout=SECONDS")
    if url.fragment:
        raise ImproperlyConfigured(f"{name} must not have a #fragment")
    if scheme == "console":
        if url.netloc or url.path or query:
            raise ImproperlyConfigured(f"{name}: console:// takes no host, path or options")
        return {"EMAIL_BACKEND": backend}
    if scheme == "file":
        if url.netloc or not url.path.startswith("/") or query:
            raise ImproperlyConfigured(f"{name}: file:// needs an absolute folder and nothing else, e.g. file:///var/mail")
        return {"EMAIL_BACKEND": backend, "EMAIL_FILE_PATH": unquote(url.path)}
    if url.path not in ("", "/"):
        raise ImproperlyConfigured(f"{name}: an SMTP URL has no path, only smtp…://[user:password@]host[:port]")
    if not url.hostname:
        raise ImproperlyConfigured(f"{name} has no host: smtp…://[user:password@]host[:port]")
    try:
        port = url.port or default_port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a bad port: a whole number from 1 to 65535") from None
    timeout = query.get("timeout", ["10"])
    try:
        seconds = float(timeout[-1])
    except ValueError:
        seconds = 0
    if len(timeout) != 1 or not 0 < seconds <= 600:
        raise ImproperlyConfigured(f"{name}: timeout must be a number of seconds above 0 and at most 600")
    if bool(url.username) != bool(url.password):
        raise ImproperlyConfigured(f"{name}: give both the user and the password (user:password@host), or neither")
    return {
        "EMAIL_BACKEND": backend,
        "EMAIL_HOST": url.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(url.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(url.password or ""),
        "EMAIL_USE_TLS": scheme == "smtp+tls",
        "EMAIL_USE_SSL": scheme == "smtp+ssl",
        "EMAIL_TIMEOUT": seconds,
    }


def env_email_address(name, default):
    """An email address (``name@host`` or ``Name <name@host>``) from the environment; refused when it is not one."""
    raw = os.environ.get(name, "").strip() or default
    _, address = parseaddr(raw)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in address):
        raise ImproperlyConfigured(f"{name} must be an email address (name@example.com or Name <name@example.com>), not {raw!r}")
    return raw
