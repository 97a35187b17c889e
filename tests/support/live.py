"""Real Hypercorn servers for tests: a free port, the test database, stopped by pid."""

from __future__ import annotations

from pathlib import Path

from bench.servers import ROOT, Server, free_port
from bench.servers import start_server as _start

__all__ = ["ROOT", "LiveServer", "free_port", "start_server"]

LiveServer = Server


def start_server(database_url: str, tmp_path: Path, *, app: str = "app:create_app()",
                 workers: int = 1, env: dict[str, str] | None = None,
                 ready_path: str = "/healthz", timeout: float = 60,
                 extra_args: list[str] | None = None) -> Server:
    """Serve ``app`` with the testing config on the test database (``extra_args`` go to
    Hypercorn, e.g. ``["--root-path", "/shop"]``)."""
    # The testing config reads TEST_DATABASE_URL; DATABASE_URL is set too for other configs.
    environment = {"VITRINE_CONFIG": "testing", "TEST_DATABASE_URL": database_url,
                   "DATABASE_URL": database_url, **(env or {})}
    return _start(app, tmp_path, workers=workers, env=environment, ready_path=ready_path,
                  timeout=timeout, extra_args=extra_args)
