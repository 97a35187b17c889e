"""The embedded default database: a PostgreSQL server started through ``pgserver``.

Used when no ``DATABASE_URL`` (or, for tests, ``TEST_DATABASE_URL``) is set. The data lives in
``instance/pgdata`` (git-ignored). ``pgserver`` counts the processes using a data directory and
stops the server when the last one exits, so Hypercorn workers, the CLI and the tests share it.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def start_embedded_server(instance_path: str | Path):  # -> pgserver.PostgresServer
    """Start (or join) the embedded server whose data lives under ``instance_path``."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver

        pgdata = Path(instance_path) / "pgdata"
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        return pgserver.get_server(pgdata, cleanup_mode="stop")


def ensure_database(admin_dsn: str, name: str) -> None:
    """Create database ``name`` on the server behind ``admin_dsn`` if it does not exist."""
    if not _DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r}")
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def embedded_database_url(instance_path: str | Path, name: str) -> str:
    """Start the embedded server, make sure database ``name`` exists, return its URL."""
    server = start_embedded_server(instance_path)
    admin_dsn = server.get_uri()
    ensure_database(admin_dsn, name)
    return server.get_uri(database=name)
