"""A local streaming replica (and, for tests, its primary) from the embedded server's binaries.

``pgserver`` ships a whole PostgreSQL: besides ``postgres`` its ``pginstall/bin`` has
``initdb``, ``pg_ctl`` and ``pg_basebackup``. With them ``make run REPLICA=1`` (``flask serve
--replica``) clones the embedded database into a hot standby that streams from it, and the
replica tests build a primary and a replica of their own, on any machine the suite runs on:

* :func:`init_primary`: ``initdb`` (trust authentication, replication allowed from loopback
  by initdb's defaults, ``wal_level=replica`` by PostgreSQL's) and start;
* :func:`start_replica`: ``pg_basebackup -R -X stream`` from a primary, then start it as a
  standby (``-R`` writes its ``primary_conninfo`` and ``standby.signal``);
* :meth:`LocalServer.stop`: by the postmaster's pid (SIGINT, PostgreSQL's fast shutdown; SIGKILL
  if it is still there after ``timeout`` seconds).

Each server listens on 127.0.0.1 at a free port and has its socket in its own data directory.
PostgreSQL refuses to run as root: as root, the servers run as the ``pgserver`` system user the
embedded server already uses (created if missing, as ``pgserver`` does).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .processes import alive


def pg_bin() -> Path:
    """pgserver's PostgreSQL binaries."""
    import pgserver

    return Path(pgserver.__file__).resolve().parent / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _system_user() -> str | None:
    """The user the servers run as: ``pgserver`` when this process is root, else ourselves."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


def _prepare_directory(path: Path, user: str | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)  # PostgreSQL refuses a data directory others can read
    if user is None:
        return
    import pwd

    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

    ensure_prefix_permissions(path)
    read, execute = 0o044, 0o011
    ensure_folder_permissions(pg_bin(), read | execute)
    ensure_folder_permissions(pg_bin().parent / "lib", read)
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(args: list[str], user: str | None) -> None:
    result = subprocess.run(args, user=user, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed: {result.stderr or result.stdout}")


@dataclass
class LocalServer:
    """One PostgreSQL server this process started (a data directory and a port)."""

    data: Path
    port: int
    user: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, from its ``postmaster.pid`` (None when it is not running)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
                   " -c wal_receiver_status_interval=1s")
        _run([str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-l",
              str(self.data / "server.log"), "-o", options, "-w", "-t", "60", "start"],
             self.user)

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown by pid; SIGKILL after ``timeout`` seconds (idempotent)."""
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def init_primary(data: Path, port: int | None = None) -> LocalServer:
    """A new primary in ``data`` (which must not exist yet or be empty), started."""
    user = _system_user()
    _prepare_directory(data, user)
    _run([str(pg_bin() / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
          "--encoding=utf8", "--no-sync"], user)
    server = LocalServer(data, port or free_port(), user)
    server.start()
    return server


def start_replica(primary_dsn: str, data: Path, port: int | None = None) -> LocalServer:
    """A hot standby of ``primary_dsn`` in ``data`` (must not exist yet), streaming, started."""
    user = _system_user()
    _prepare_directory(data, user)
    _run([str(pg_bin() / "pg_basebackup"), "-d", primary_dsn, "-D", str(data), "-R",
          "-X", "stream", "-c", "fast", "--no-sync"], user)
    server = LocalServer(data, port or free_port(), user)
    server.start()
    return server


def replicate_locally(primary_dsn: str, data: Path, database: str) -> tuple[LocalServer, str]:
    """A fresh replica of ``primary_dsn`` in ``data`` (what a previous run left there, even a
    server still running, is stopped and removed first), and the URL of its ``database``."""
    stale = LocalServer(data, 0, None)
    stale.stop()
    if data.exists():
        shutil.rmtree(data)
    replica = start_replica(primary_dsn, data)
    return replica, replica.url(database)
