import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from prm.env import env_bool

ROOT = settings.BASE_DIR


def test_env_bool_is_strict(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_FLAG", "False")
    assert env_bool("X_FLAG", True) is False


def _manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_secret_key():
    result = _manage("check", DEBUG="False")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_check_deploy():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="False", SECRET_KEY=secrets.token_urlsafe(50),
                     ALLOWED_HOSTS="prm.example.com")
    assert result.returncode == 0, result.stderr


def test_login_throttling_comes_from_the_environment():
    code = "from django.conf import settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds())"
    result = _manage("shell", "--no-imports", "-c", code, LOGIN_FAILURE_LIMIT="3", LOGIN_COOLOFF_MINUTES="30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "1800.0"]

    result = _manage("check", LOGIN_FAILURE_LIMIT="five")
    assert result.returncode != 0
    assert "LOGIN_FAILURE_LIMIT must be a whole number" in result.stderr
