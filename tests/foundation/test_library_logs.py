"""The libraries' warnings reach the JSON logs: a Flask-Limiter fallback to memory (Redis down),
Hypercorn's own error log, each as a JSON line, with the request id when logged in a request."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from tests.support.live import ROOT, free_port, start_server


def json_lines(server, logger: str, count: int = 1) -> list[dict]:
    """The server's JSON lines from ``logger`` (waits for the log thread)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        found = [line for line in lines if line.get("logger") == logger]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.live
def test_the_rate_limiter_falling_back_to_memory_is_a_json_warning_with_the_request_id(
        database_url, tmp_path):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    server = start_server(database_url, tmp_path, env={"REDIS_URL": dead_redis,
                                                       "VITRINE_RATELIMIT_ENABLED": "1"})
    try:
        response = httpx.get(server.url + "/api/v1/products",
                             headers={"X-Request-ID": "limiter-probe-1"}, timeout=10)
        assert response.status_code == 200  # rate limits went on, counted in memory
        warnings = json_lines(server, "flask-limiter")
    finally:
        server.stop()
    assert warnings, server.log()[-3000:]
    assert warnings[0]["level"] == "warning"
    assert "falling back to in-memory storage" in warnings[0]["message"]
    assert warnings[0]["request_id"] == "limiter-probe-1"
    # Hypercorn's own lines go the same way (its INFO "Running on" is below the default level).
    assert "Running on" not in server.log()


SCRIPT = """
import logging, time
from hypercorn.config import Config
from app.ops.logging import configure_logging
configure_logging("INFO", "WARNING")
Config.from_toml("hypercorn.toml").log  # what a worker does after loading the app
logging.getLogger("hypercorn.error").info("hypercorn info")
logging.getLogger("hypercorn.error").warning("hypercorn warning")
logging.getLogger("sqlalchemy.pool").warning("pool warning")
time.sleep(0.2)
"""


def test_hypercorn_s_error_log_is_json_on_the_app_s_queue():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("hypercorn.error", "hypercorn warning"), ("sqlalchemy.pool", "pool warning")]
