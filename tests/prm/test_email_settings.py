"""Email settings from the environment: EMAIL_URL parsed strictly (prm.env.env_email_url), the sender addresses, and
what prm/settings.py makes of them in development (file backend into var/mail/) and production (SMTP; without
EMAIL_URL the console backend and a warning at start-up)."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from prm.env import env_email_address, env_email_url

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp+tls://mailer:s3cret@smtp.example.com:2525",
            {"EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": 2525, "EMAIL_HOST_USER": "mailer",
             "EMAIL_HOST_PASSWORD": "s3cret", "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False, "EMAIL_TIMEOUT": 10.0},
        ),
        (
            "smtp+tls://apikey:p%40ss%3Aw%2Fd@smtp.example.com",  # percent-encoded @ : / in the password
            {"EMAIL_PORT": 587, "EMAIL_HOST_USER": "apikey", "EMAIL_HOST_PASSWORD": "p@ss:w/d", "EMAIL_USE_TLS": True},
        ),
        (
            "smtp+ssl://me%40example.com:pw@smtp.example.com?timeout=2.5",
            {"EMAIL_PORT": 465, "EMAIL_HOST_USER": "me@example.com", "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False,
             "EMAIL_TIMEOUT": 2.5},
        ),
        (
            "smtp://relay.internal",
            {"EMAIL_HOST": "relay.internal", "EMAIL_PORT": 25, "EMAIL_HOST_USER": "", "EMAIL_HOST_PASSWORD": "",
             "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False},
        ),
        ("SMTP+TLS://u:p@[::1]:1025", {"EMAIL_HOST": "::1", "EMAIL_PORT": 1025, "EMAIL_USE_TLS": True}),
    ],
)
def test_smtp_urls(monkeypatch, url, expected):
    monkeypatch.setenv("EMAIL_URL", url)
    parsed = env_email_url("EMAIL_URL")
    assert parsed["EMAIL_BACKEND"] == SMTP
    assert {key: parsed[key] for key in expected} == expected


def test_console_and_file_urls(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "console://")
    assert env_email_url("EMAIL_URL") == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    monkeypatch.setenv("EMAIL_URL", "file:///srv/prm/mail%20out")
    assert env_email_url("EMAIL_URL") == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": "/srv/prm/mail out",
    }


def test_unset_or_blank_is_no_configuration(monkeypatch):
    monkeypatch.delenv("EMAIL_URL", raising=False)
    assert env_email_url("EMAIL_URL") == {}
    monkeypatch.setenv("EMAIL_URL", "  ")
    assert env_email_url("EMAIL_URL") == {}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("smtps://u:p@smtp.example.com", "use smtp+ssl:// for TLS on 465 or smtp+tls:// for STARTTLS on 587"),
        ("submission://u:p@smtp.example.com", "must start with smtp://, smtp+tls://"),
        ("smtp.example.com:587", "must start with smtp://"),
        ("smtp:/smtp.example.com", "must start with smtp://"),
        ("smtp+tls://u:p@smtp.example.com:58x7", "bad port"),
        ("smtp+tls://u:p@smtp.example.com:70000", "bad port"),
        ("smtp+tls://", "has no host"),
        ("smtp+tls://u:p@smtp.example.com/inbox", "has no path"),
        ("smtp+tls://u@smtp.example.com", "both the user and the password"),
        ("smtp+tls://:p@smtp.example.com", "both the user and the password"),
        ("smtp+tls://u:p@smtp.example.com?tls=yes", "unknown options ['tls']"),
        ("smtp+tls://u:p@smtp.example.com?timeout=soon", "timeout must be a number of seconds"),
        ("smtp+tls://u:p@smtp.example.com?timeout=0", "timeout must be a number of seconds"),
        ("smtp+tls://u:p@smtp.example.com?timeout=1&timeout=2", "timeout must be a number of seconds"),
        ("smtp+tls://u:p@smtp.example.com#x", "#fragment"),
        ("console://localhost", "console:// takes no host"),
        ("file://mail", "needs an absolute folder"),
    ],
)
def test_bad_urls_are_refused_naming_the_variable_and_not_the_password(monkeypatch, url, message):
    monkeypatch.setenv("EMAIL_URL", url)
    with pytest.raises(ImproperlyConfigured) as error:
        env_email_url("EMAIL_URL")
    assert str(error.value).startswith("EMAIL_URL")
    assert message in str(error.value)
    assert ":p@" not in str(error.value)


@pytest.mark.parametrize("value", ["prm@example.com", "PRM Reminders <reminders@prm.example.com>"])
def test_sender_addresses(monkeypatch, value):
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", value)
    assert env_email_address("DEFAULT_FROM_EMAIL", "x@localhost") == value


@pytest.mark.parametrize("value", ["prm", "PRM <prm>", "@example.com", "prm@", "two words@example.com"])
def test_bad_sender_addresses_are_refused(monkeypatch, value):
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", value)
    with pytest.raises(ImproperlyConfigured, match="DEFAULT_FROM_EMAIL must be an email address"):
        env_email_address("DEFAULT_FROM_EMAIL", "x@localhost")


# What prm/settings.py makes of them, in a fresh process as at start-up ---------------------------------------------

SHOW = ("from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.EMAIL_TIMEOUT, s.DEFAULT_FROM_EMAIL, "
        "s.SERVER_EMAIL, getattr(s, 'EMAIL_FILE_PATH', None), sep='|')")
PRODUCTION = {"DEBUG": "False", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "prm.example.com"}


def _manage(*args, **env):
    # DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests' conftest sets it in this process (Playwright's event loop); a
    # deployment never has it, and `check --deploy` rightly refuses it (async.E001).
    names = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL", "DEFAULT_FROM_EMAIL", "SERVER_EMAIL", "VAR_DIR",
             "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {key: value for key, value in os.environ.items() if key not in names}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_development_writes_email_to_the_mailbox_folder(tmp_path):
    result = _manage("shell", "--no-imports", "-c", SHOW, VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    backend, *_, sender, server, folder = result.stdout.strip().split("|")
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert folder == str(tmp_path / "mail")
    assert sender == server == "PRM <prm@localhost>"


def test_production_sends_through_the_smtp_server_of_email_url():
    result = _manage("shell", "--no-imports", "-c", SHOW, **PRODUCTION,
                     EMAIL_URL="smtp+tls://mailer:pw@smtp.example.com", DEFAULT_FROM_EMAIL="PRM <prm@example.com>")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|")[:7] == [
        SMTP, "smtp.example.com", "587", "True", "10.0", "PRM <prm@example.com>", "PRM <prm@example.com>",
    ]
    assert "EMAIL_URL is not set" not in result.stderr


def test_production_with_a_mail_server_needs_a_sender():
    result = _manage("check", **PRODUCTION, EMAIL_URL="smtp+tls://mailer:pw@smtp.example.com")
    assert result.returncode != 0
    assert "DEFAULT_FROM_EMAIL must be set when EMAIL_URL is a mail server" in result.stderr


def test_production_without_email_url_logs_email_and_warns_but_starts():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)  # as .ci/run runs it
    assert result.returncode == 0, result.stderr
    assert "EMAIL_URL is not set: email is written to the log, not sent" in result.stderr

    result = _manage("shell", "--no-imports", "-c", SHOW, **PRODUCTION)
    assert result.stdout.split("|")[0] == "django.core.mail.backends.console.EmailBackend"


def test_a_bad_email_url_stops_start_up_with_a_clear_error():
    result = _manage("check", EMAIL_URL="smtps://mailer:pw@smtp.example.com")
    assert result.returncode != 0
    assert "ImproperlyConfigured: EMAIL_URL must start with smtp://" in result.stderr
    assert "mailer:pw" not in result.stderr
