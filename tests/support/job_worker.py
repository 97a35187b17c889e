"""A real ``flask --app app worker`` process on the test database, stopped by its pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class JobWorker:
    def __init__(self, database_url: str, log_path: Path, *, batch_rows: int = 5,
                 stalled_after: float = 2) -> None:
        env = {**os.environ, "VITRINE_CONFIG": "testing", "TEST_DATABASE_URL": database_url,
               "DATABASE_URL": database_url, "VITRINE_JOB_BATCH_ROWS": str(batch_rows),
               "VITRINE_IMPORT_BATCH_ROWS": str(batch_rows),
               "VITRINE_JOB_STALLED_AFTER": str(stalled_after), "PYTHONPATH": str(ROOT)}
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def job(sql, job_id: int) -> dict:
    """The job's state, progress and outcome as the editor's page would show them."""
    return sql.one("SELECT state, done, total, outcome FROM jobs WHERE id = %s", job_id)


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail if it never does within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the state waited for never came"
        time.sleep(0.05)
