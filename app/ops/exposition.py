"""``/metrics``: the Prometheus text format, for the operators only.

A request may read the metrics when it carries ``Authorization: Bearer <METRICS_TOKEN>``, or
when it comes straight from an address in ``METRICS_ALLOW`` (loopback by default). "Straight":
a request with ``Forwarded`` or ``X-Forwarded-For`` came through a proxy, and a proxy on the same
host would otherwise make every visitor a loopback client. Anyone else gets the 404 of any
unknown page, so the endpoint does not advertise itself.

In multiprocess mode the answer merges every worker's files (prometheus-client's
``MultiProcessCollector``), read in a thread so the loop keeps serving; the live gauges of
workers that are gone (a crash leaves its files behind) are dropped first.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import re
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from ..runtime.asgi import OBSERVER_KEY
from .metrics import init_app
from .processes import alive

bp = Blueprint("metrics", __name__)

_LIVE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


@bp.record_once
def _install_observer(state: BlueprintSetupState) -> None:
    """Registering the endpoint starts the counting (once per app)."""
    init_app(state.app)


@bp.get("/metrics")
async def metrics() -> ResponseReturnValue:
    if not may_read_metrics():
        abort(404)
    current_app.extensions[OBSERVER_KEY].sample_pool()
    body = await asyncio.to_thread(render, os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def may_read_metrics() -> bool:
    """The token, or a direct connection from an allowed network."""
    token: str | None = current_app.config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer "):
        return hmac.compare_digest(given[len("Bearer "):].encode(), token.encode())
    if "Forwarded" in request.headers or "X-Forwarded-For" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in current_app.config["METRICS_ALLOW"])


def render(multiprocess_dir: str | None) -> bytes:
    """The exposition of this process, or of every process writing to ``multiprocess_dir``."""
    if not multiprocess_dir:
        return generate_latest(REGISTRY)
    forget_dead_processes(Path(multiprocess_dir))
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=multiprocess_dir)
    return generate_latest(registry)


def forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges (in flight, queued, pool) of processes that no longer exist."""
    pids = {int(match.group(1)) for path in directory.glob("gauge_live*.db")
            if (match := _LIVE_FILE.match(path.name))}
    for pid in pids:
        if not alive(pid):
            mark_process_dead(pid, str(directory))
