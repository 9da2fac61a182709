"""Celery without Redis (prm/filequeue.py): the worker line of Procfile.dev — the one `make run` starts — as a real
process on kombu's filesystem transport, with real files, and tasks sent the way the web sends them (prm.settings
with REDIS_URL unset). Everything lives in a VAR_DIR of this test, not in the checkout's var/."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _procfile_command(name):
    for line in (ROOT / "Procfile.dev").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.partition(":")[2].strip()
    raise AssertionError(f"no {name}: line in Procfile.dev")


@pytest.fixture
def env(tmp_path):
    """The environment of `make run`'s processes: no REDIS_URL, the venv's commands on PATH; VAR_DIR of this test."""
    base = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "CELERY_EAGER", "DEBUG"}}
    return {**base, "VAR_DIR": str(tmp_path), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{base['PATH']}"}


def _django(env, code):
    """Run ``code`` in a fresh process with the project's settings (as the web server or a manage.py command)."""
    result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def worker(env):
    """Start Procfile.dev's worker (through a shell, as honcho does); stopped, and waited for, at the end."""
    processes = []

    def start():
        process = subprocess.Popen(_procfile_command("worker"), shell=True, cwd=ROOT, env=env,  # noqa: S602 (our Procfile)
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: the shell and the worker
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_procfile_worker_runs_tasks_sent_through_files(env, worker, tmp_path):
    folder = tmp_path / "celery"
    assert "--pool solo" in _procfile_command("worker")

    # Sent while no worker runs (as from `manage.py import_achievements`): the send returns at once, and the message
    # waits as a file.
    task_id = _django(env, "from prm.celery import ping; print(ping.delay().id)")
    queued = list((folder / "queue").iterdir())
    assert [path.name.endswith(".celery.msg") for path in queued] == [True]
    assert json.loads(queued[0].read_text())["headers"]["id"] == task_id

    process = worker()
    result_file = folder / "results" / f"celery-task-meta-{task_id}"
    deadline = time.monotonic() + 60
    while not result_file.exists():
        if process.poll() is not None:
            pytest.fail(f"the worker exited with {process.returncode}:\n{process.stdout.read()}")
        assert time.monotonic() < deadline, "the worker did not run the queued task within 60 s"
        time.sleep(0.2)
    assert json.loads(result_file.read_text())["result"] == "pong"
    assert list((folder / "queue").iterdir()) == []
    assert (folder / "processed" / queued[0].name).exists()  # claimed by a rename, kept for a developer to read

    # With the worker running, a round trip from a web-like process: send, then wait for the result file.
    assert _django(env, "from prm.celery import ping; print(ping.delay().get(timeout=30))") == "pong"


def test_settings_without_redis_use_the_filesystem_transport_and_never_eager(env, tmp_path):
    code = ("from django.conf import settings as s; "
            "print(s.CELERY_BROKER_URL, s.CELERY_RESULT_BACKEND, s.CELERY_TASK_ALWAYS_EAGER, "
            "s.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in'], s.CELERY_BEAT_SCHEDULE_FILENAME)")
    folder = tmp_path / "celery"
    assert _django(env, code).split() == [
        "filesystem://localhost/", f"file://{folder / 'results'}", "False", str(folder / "queue"), str(folder / "beat-schedule"),
    ]
    assert _django({**env, "CELERY_EAGER": "True"}, code).split()[2] == "True"  # explicit only
    redis = _django({**env, "REDIS_URL": "redis://127.0.0.1:6379/9"}, code.replace(
        ", s.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in'], s.CELERY_BEAT_SCHEDULE_FILENAME", ""))
    assert redis.split() == ["redis://127.0.0.1:6379/9", "redis://127.0.0.1:6379/9", "False"]


def test_production_without_redis_warns_at_start_up(env):
    production = {**env, "DEBUG": "False", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "prm.example.com"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=production, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "REDIS_URL is not set: Celery's queue is files in" in result.stderr
