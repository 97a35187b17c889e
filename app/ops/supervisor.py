"""Run Hypercorn as a child process and stop it, and whatever this process owns, on a signal.

``flask --app app serve`` (``make run``) prepares the database and then serves through
:class:`Supervisor`, with one job worker (``flask --app app worker``) beside Hypercorn. Until
Hypercorn runs, SIGINT, SIGTERM and SIGHUP raise :class:`Stopped` so that the caller's
``finally`` releases the embedded PostgreSQL; while it runs, they are forwarded to Hypercorn
and the worker as SIGTERM (Hypercorn's own SIGHUP would only restart its workers) and the
supervisor returns once it has exited (its process tree is killed after ``grace`` seconds).
SIGKILL cannot be handled: the embedded server's next start prunes the dead pid (see
:mod:`app.data.embedded`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from .processes import children

# What signal.signal() returns and accepts (typeshed's private ``_HANDLER``).
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(Exception):
    """A stop signal arrived before the server was running."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Supervisor:
    """Owns the stop signals of this process while it is entered (restores them on exit).

    A stop signal reaches Hypercorn one second late, and only if it is still running then:
    Ctrl+C, a closed terminal or a signal to the process group reach Hypercorn directly, and a
    second signal landing inside Hypercorn's own handler deadlocks it (the handler holds the
    lock of the event that tells the workers to stop). A signal sent to this pid alone still
    stops it, a second later.
    """

    FORWARD_AFTER = 1.0  # seconds

    def __init__(self, grace: float = 30) -> None:
        self.grace = grace
        self.received: int | None = None
        self._received_at = 0.0
        self._serving = False
        self._previous: dict[int, Handler] = {}

    def __enter__(self) -> Supervisor:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        first = self.received is None
        if first:
            self.received, self._received_at = signum, time.monotonic()
        if not self._serving and first:
            raise Stopped(signum)
        # Otherwise: the first signal is already unwinding the preparation, or run() forwards.

    def run(self, command: list[str], *, cwd: Path, env: dict[str, str],
            companions: Sequence[list[str]] = ()) -> int:
        """Run ``command`` until it exits or a stop signal ends it; return its exit status
        (0 when it stopped cleanly because of a signal). ``companions`` (the job worker) run
        beside it, are stopped with it (SIGTERM, then killed after ``grace``) and do not
        decide the status; one that exits on its own is reported, the server keeps serving."""
        self._serving = True  # from here on a signal is forwarded, never raised mid-Popen
        if self.received is not None:
            raise Stopped(self.received)
        child = subprocess.Popen(command, cwd=cwd, env=env)
        helpers = [subprocess.Popen(helper, cwd=cwd, env=env) for helper in companions]
        reported: set[int] = set()
        forwarded_at: float | None = None
        try:
            while True:
                try:
                    status = child.wait(0.2)
                    break
                except subprocess.TimeoutExpired:
                    pass
                for helper in helpers:
                    if helper.poll() is not None and helper.pid not in reported:
                        reported.add(helper.pid)
                        print(f"job worker (pid {helper.pid}) exited with "
                              f"{helper.returncode}", file=sys.stderr)
                if self.received is None:
                    continue
                now = time.monotonic()
                if forwarded_at is None and now - self._received_at >= self.FORWARD_AFTER:
                    for process in (child, *helpers):
                        if process.poll() is None:
                            process.send_signal(signal.SIGTERM)
                    forwarded_at = now
                if forwarded_at is not None and now - forwarded_at > self.grace:
                    _kill_tree(child.pid)
                    return child.wait()
        finally:
            self._stop_all(helpers)
        if self.received is not None and status in (0, -signal.SIGTERM):
            return 0
        return status

    def _stop_all(self, processes: Sequence[subprocess.Popen[bytes]]) -> None:
        """SIGTERM each process still running, wait ``grace`` seconds, then kill by pid."""
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for process in processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_tree(process.pid)
                process.wait()


def job_worker_command() -> list[str]:
    """The command of one job worker (``flask --app app worker``) for this interpreter."""
    return [sys.executable, "-m", "flask", "--app", "app", "worker"]


def hypercorn_command(bind: str, config: Path, app: str = "app:create_app()") -> list[str]:
    """The command that serves ``app`` on ``bind`` with this interpreter's Hypercorn (through
    :mod:`app.ops.server`, which gives the workers a shared metrics directory)."""
    return [sys.executable, "-m", "app.ops.server", "--config", str(config), "--bind", bind, app]


def _kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and its direct children (Hypercorn's workers), by pid."""
    for child in children(pid):
        _kill(child)
    _kill(pid)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
