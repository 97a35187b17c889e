"""Start real Hypercorn servers for tests: a free port, the test database, stopped by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A Hypercorn process serving an app factory on ``url``."""

    process: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def start_server(database_url: str, tmp_path: Path, *, app: str = "app:create_app()",
                 workers: int = 1, env: dict[str, str] | None = None,
                 ready_path: str = "/healthz", timeout: float = 40) -> LiveServer:
    """Start Hypercorn with ``hypercorn.toml`` on a free port; wait until ``ready_path`` answers."""
    port = free_port()
    log_path = tmp_path / f"hypercorn-{port}.log"
    environment = {
        **os.environ,
        "VITRINE_CONFIG": "testing",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "hypercorn", "--config", str(ROOT / "hypercorn.toml"),
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), app,
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log_file,
                                   stderr=subprocess.STDOUT)
    server = LiveServer(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hypercorn exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + ready_path, timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"hypercorn did not become ready in {timeout}s:\n{server.log()}")
