"""A throwaway Redis for the tests: Debian's ``redis-server`` on a free port, stopped by pid.

Like the embedded PostgreSQL, the suite needs no server someone else started: without
``TEST_REDIS_URL`` it runs its own, in memory only (no RDB snapshot, no AOF), with its files in a
temporary directory, and never touches the default port 6379.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from .live import free_port

REDIS_SERVER = "redis-server"


@dataclass
class RedisServer:
    """A ``redis-server`` child process answering at ``url``."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to this server's pid only, SIGKILL if it does not exit in ``timeout``."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def start_redis(directory: Path, *, timeout: float = 20, attempts: int = 3) -> RedisServer:
    """Start ``redis-server`` on a free loopback port with its files under ``directory``
    (another attempt on another port if someone took the port first)."""
    executable = shutil.which(REDIS_SERVER)
    if executable is None:
        raise RuntimeError("redis-server is not installed: run `make redis` (Debian's package) "
                           "or set TEST_REDIS_URL")
    directory.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        try:
            return _start(executable, directory, timeout)
        except _PortTaken:
            if attempt == attempts:
                raise RuntimeError("redis-server found no free port") from None
    raise AssertionError("unreachable")


class _PortTaken(Exception):
    pass


def _start(executable: str, directory: Path, timeout: float) -> RedisServer:
    port = free_port()
    log_path = directory / f"redis-{port}.log"
    command = [executable, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "no", "--dir", str(directory), "--daemonize", "no",
               "--logfile", str(log_path)]
    process = subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    server = RedisServer(process, f"redis://127.0.0.1:{port}/0", log_path)
    client = redis.Redis.from_url(server.url, socket_timeout=1)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = log_path.read_text(errors="replace") if log_path.exists() else ""
                if "Address already in use" in log:
                    raise _PortTaken
                raise RuntimeError(f"redis-server exited with {process.returncode}:\n{log}")
            try:
                # The pid check: a server that answers on this port must be the one we started.
                if client.info("server")["process_id"] == process.pid:
                    return server
            except redis.ConnectionError:
                pass
            time.sleep(0.05)
    finally:
        client.close()
    server.stop()
    raise RuntimeError(f"redis-server did not answer within {timeout}s")
