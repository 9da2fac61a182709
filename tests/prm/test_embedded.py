"""The embedded PostgreSQL (prm/embedded.py) when several processes need it at once, as ``make run`` has: the web
server, the Celery worker and beat all import the settings, and so start the server, at the same moment.

A real server from the wheel in a fresh folder of this test (not the checkout's .pgdata/), stopped at the end.
"""

import subprocess
import sys
import textwrap

import pytest
from django.conf import settings

from prm import embedded

# One process of `make run`: what importing prm.settings does without DATABASE_URL, then a query on the result.
PROCESS = textwrap.dedent("""
    import sys
    from pathlib import Path
    from urllib.parse import unquote, urlsplit

    import psycopg2

    from prm import embedded

    url = embedded.database_url(Path(sys.argv[1]))
    connection = psycopg2.connect(dbname=urlsplit(url).path[1:], user="postgres", host=unquote(urlsplit(url).hostname))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_setting('shared_buffers')")
        print(url, *cursor.fetchone())
""")


@pytest.fixture
def checkout(tmp_path):
    tmp_path.chmod(0o755)  # as root the server runs as the wheel's own user, which must reach the folder
    yield tmp_path
    embedded.stop(tmp_path)


def test_three_processes_starting_at_once_share_one_server(checkout):
    processes = [
        subprocess.Popen([sys.executable, "-W", "ignore", "-c", PROCESS, str(checkout)], cwd=settings.BASE_DIR,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [process.communicate(timeout=120) + (process.returncode,) for process in processes]

    for _, stderr, returncode in results:
        assert returncode == 0, stderr
    lines = {stdout.strip() for stdout, _, _ in results}
    assert len(lines) == 1, lines  # the same server, socket and database for all three
    url, database, shared_buffers = lines.pop().split()
    assert database == embedded.DATABASE
    assert shared_buffers == embedded.SERVER_SETTINGS["shared_buffers"]  # the settings restart happened, once
    assert str(checkout) in url.replace("%2F", "/")

    # A later process finds it running — even after a process was killed while the wheel rewrote its list of
    # processes (an empty .handle_pids.json made every later start fail).
    (checkout / embedded.DATA_DIR_NAME / ".handle_pids.json").write_text("")
    later = subprocess.run([sys.executable, "-W", "ignore", "-c", PROCESS, str(checkout)], cwd=settings.BASE_DIR,
                           capture_output=True, text=True, timeout=60)
    assert later.returncode == 0, later.stderr
    assert later.stdout.split()[0] == url
