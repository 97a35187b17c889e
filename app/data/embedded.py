"""The embedded default database: a PostgreSQL server started through ``pgserver``.

Used when no ``DATABASE_URL`` (or, for tests, ``TEST_DATABASE_URL``) is set. The data lives in
``instance/pgdata`` (git-ignored). ``pgserver`` lists the pids of the processes using a data
directory in ``pgdata/.handle_pids.json`` and stops the server when the last one releases it, so
the CLI and the tests share one server. A process that dies without running its exit hooks
(SIGKILL, OOM, a signal without a handler) stays listed, and the server would then never be
stopped again: every start and stop here first removes the pids of processes that are gone.
``flask --app app serve`` (``make run``) is the one owner while it serves: its Hypercorn workers
get the URL and never hold a handle themselves.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ..ops.processes import alive

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


HANDLE_FILE = ".handle_pids.json"

# Servers this process started, by data directory, so that it can release exactly its handle.
_started: dict[Path, Any] = {}


def _pgdata(instance_path: str | Path) -> Path:
    return (Path(instance_path) / "pgdata").expanduser().resolve()


def _pgserver() -> Any:
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver.postgres_server

        return pgserver.postgres_server


def start_embedded_server(instance_path: str | Path) -> Any:  # pgserver.PostgresServer
    """Start (or join) the embedded server whose data lives under ``instance_path``."""
    pgdata = _pgdata(instance_path)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    prune_dead_handles(pgdata)
    server = _pgserver().get_server(pgdata, cleanup_mode="stop")
    _started[pgdata] = server
    return server


def stop_embedded_server(instance_path: str | Path) -> None:
    """Release this process's handle on the embedded server under ``instance_path``; the server
    stops if no other live process holds one. Does nothing if this process started none."""
    pgdata = _pgdata(instance_path)
    server = _started.pop(pgdata, None)
    if server is not None:
        prune_dead_handles(pgdata)
        server.cleanup()  # with cleanup_mode="stop": stops the server, keeps the data


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Remove the pids of exited processes from pgserver's handle list; return them."""
    path = pgdata / HANDLE_FILE
    # pgserver reads and writes the list under this inter-process lock; so do we.
    with _pgserver().PostgresServer._lock:
        if not path.exists():
            return []
        pids: list[int] = json.loads(path.read_text())
        dead = [pid for pid in pids if not alive(pid)]
        if dead:
            path.write_text(json.dumps([pid for pid in pids if pid not in dead]))
    return dead


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
