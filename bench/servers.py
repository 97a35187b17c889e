"""Start and stop Hypercorn processes on free loopback ports (shared by benchmarks and tests)."""

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

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A Hypercorn process serving ``url``; stop it with :meth:`stop` (by its pid)."""

    process: subprocess.Popen
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

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


def start_server(app: str, log_dir: Path, *, workers: int = 1, env: dict[str, str] | None = None,
                 config: Path = ROOT / "hypercorn.toml", ready_path: str = "/healthz",
                 timeout: float = 60, extra_args: list[str] | None = None,
                 cwd: Path = ROOT) -> Server:
    """Start ``hypercorn --config <config> <app>`` on a free port; wait until ``ready_path``
    answers 200 (any status if ``ready_path`` is empty)."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"hypercorn-{port}.log"
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    command = [sys.executable, "-m", "hypercorn", "--config", str(config),
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers), *(extra_args or []), app]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=log_file,
                                   stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hypercorn exited with {process.returncode}:\n{server.log()}")
        try:
            response = httpx.get(server.url + (ready_path or "/"), timeout=1)
            if not ready_path or response.status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"hypercorn did not become ready in {timeout}s:\n{server.log()}")
