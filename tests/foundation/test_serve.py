"""``make run`` (``flask --app app serve``) stops the embedded PostgreSQL however it is stopped.

The sequence from the bug report, in a fresh copy of the project (its own ``instance/``): serve,
SIGTERM to the process group (a supervisor, a closed terminal), serve again, Ctrl+C (SIGINT to
the group). Before the fix the second stop left ``postgres`` running with dead pids listed in
``instance/pgdata/.handle_pids.json``. SIGKILL cannot be handled; the next start prunes its pid.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.data.embedded import HANDLE_FILE
from tests.support.live import ROOT, free_port

pytestmark = pytest.mark.live

COPIED = ("app", "migrations", "templates", "static", "hypercorn.toml")


@dataclass
class Clone:
    root: Path
    processes: list[subprocess.Popen[bytes]]

    @property
    def pgdata(self) -> Path:
        return self.root / "instance" / "pgdata"

    def handles(self) -> list[int]:
        return json.loads((self.pgdata / HANDLE_FILE).read_text())

    def postmaster(self) -> int | None:
        """The pid of the clone's running ``postgres``, if any."""
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return None
        pid = int(pid_file.read_text().split()[0])
        return pid if _alive(pid) else None

    def serve(self) -> subprocess.Popen[bytes]:
        """``flask --app app serve`` in its own process group (like ``make run`` in a terminal),
        once it answers on ``/healthz``."""
        port = free_port()
        env = {key: value for key, value in os.environ.items()
               if key not in ("DATABASE_URL", "TEST_DATABASE_URL")}
        env.update(VITRINE_CONFIG="development", PYTHONPATH=str(self.root))
        log = (self.root / f"serve-{port}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--bind",
             f"127.0.0.1:{port}", "--products", "20"],
            cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, self.log(port)
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"serve did not answer in time:\n{self.log(port)}")

    def log(self, port: int) -> str:
        return (self.root / f"serve-{port}.log").read_text(errors="replace")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (not exited, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _gone(pid: int, timeout: float = 15) -> bool:
    """``pid`` exits within ``timeout`` (pg_ctl stop returns once postmaster.pid is removed,
    a moment before the process itself has exited)."""
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _group_empties(pgid: int, timeout: float = 15) -> bool:
    """No process of group ``pgid`` is left within ``timeout`` (multiprocessing's resource
    tracker exits a moment after Hypercorn)."""
    deadline = time.monotonic() + timeout
    while subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True).stdout:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _job_workers(pgid: int, timeout: float = 30) -> list[str]:
    """The ``flask --app app worker`` processes of group ``pgid`` (waiting for one to start)."""
    deadline = time.monotonic() + timeout
    while True:
        found = subprocess.run(["pgrep", "-g", str(pgid), "-f", "flask --app app worker"],
                               capture_output=True, text=True).stdout.split()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _stop_group(process: subprocess.Popen[bytes], signum: int) -> int:
    os.killpg(process.pid, signum)
    return process.wait(90)


@pytest.fixture
def clone() -> Iterator[Clone]:
    # Not under pytest's tmp_path: each pytest session takes the group and other bits off
    # /tmp/pytest-of-<user>, and the embedded server runs as another user ("pgserver") when the
    # tests run as root, so a concurrent session would lock it out of its own data directory.
    tmp_path = Path(tempfile.mkdtemp(prefix="vitrine-serve-"))
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    copy = Clone(tmp_path, [])
    yield copy
    for process in copy.processes:  # a failed assertion must not leave servers behind
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
    leftover = copy.postmaster()
    if leftover is not None:
        os.kill(leftover, signal.SIGINT)  # PostgreSQL's fast shutdown
        _gone(leftover)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_serve_stops_postgres_on_sigterm_then_on_ctrl_c(clone: Clone):
    first = clone.serve()
    postgres = clone.postmaster()
    assert postgres is not None and clone.handles() == [first.pid]
    assert _stop_group(first, signal.SIGTERM) == 0
    assert _gone(postgres)
    assert clone.handles() == []

    second = clone.serve()
    postgres = clone.postmaster()
    assert postgres is not None and clone.handles() == [second.pid]
    assert _stop_group(second, signal.SIGINT) == 0
    assert _gone(postgres)
    assert clone.handles() == []


def test_serve_stops_postgres_when_its_terminal_closes(clone: Clone):
    """SIGHUP: Hypercorn alone would only restart its workers; serve stops it, then postgres."""
    served = clone.serve()
    postgres = clone.postmaster()
    assert postgres is not None
    assert _stop_group(served, signal.SIGHUP) == 0
    assert _gone(postgres)
    assert clone.handles() == []


def test_serve_stops_hypercorn_and_postgres_when_only_its_pid_is_signalled(clone: Clone):
    """A supervisor that signals the main process alone: serve stops Hypercorn and the job
    worker it started beside it itself."""
    served = clone.serve()
    postgres = clone.postmaster()
    assert postgres is not None
    assert _job_workers(served.pid), "serve starts a job worker next to Hypercorn"
    served.send_signal(signal.SIGTERM)
    assert served.wait(90) == 0
    assert _group_empties(served.pid), "Hypercorn or the job worker outlived serve"
    assert _gone(postgres)
    assert clone.handles() == []


def test_serve_after_a_sigkill_prunes_the_dead_pid_and_stops_postgres(clone: Clone):
    killed = clone.serve()
    _stop_group(killed, signal.SIGKILL)
    postgres = clone.postmaster()
    assert postgres is not None, "nothing could stop postgres after SIGKILL"
    assert clone.handles() == [killed.pid]

    again = clone.serve()
    assert clone.postmaster() == postgres  # joined the running server
    assert clone.handles() == [again.pid]  # the dead pid is gone
    assert _stop_group(again, signal.SIGINT) == 0
    assert _gone(postgres)
    assert clone.handles() == []
