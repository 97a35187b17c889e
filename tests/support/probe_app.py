"""The real app plus a few probe views that expose how requests are executed.

Used by the foundation tests, through the test client and through a live Hypercorn server
(``tests.support.probe_app:create_probe_app()``).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, request, session
from sqlalchemy import text

from app import create_app
from app.data.database import get_session
from app.runtime import VitrineFlask
from app.web.streaming import streamed

probe = Blueprint("probe", __name__, url_prefix="/_probe")
_in_flight = {"now": 0, "peak": 0}


@probe.before_request
async def remember_start() -> None:
    g.probe_before = request.path


@probe.get("/backend-pid")
async def backend_pid():
    session_ = await get_session()
    pid = await session_.scalar(text("SELECT pg_backend_pid()"))
    return jsonify(pid=pid)


@probe.get("/context")
async def context():
    session["visits"] = session.get("visits", 0) + 1
    await asyncio.sleep(0)
    return jsonify(
        arg=request.args.get("x"),
        before=g.probe_before,
        app=current_app.name,
        visits=session["visits"],
        loop_running=asyncio.get_running_loop().is_running(),
    )


@probe.get("/sleep")
async def sleep():
    """Await ``seconds`` and report the peak number of requests awaiting at once, and when the
    wait ended (``time.time()``: the response is made after it)."""
    _in_flight["now"] += 1
    _in_flight["peak"] = max(_in_flight["peak"], _in_flight["now"])
    try:
        await asyncio.sleep(float(request.args.get("seconds", "0.2")))
    finally:
        _in_flight["now"] -= 1
    return jsonify(peak=_in_flight["peak"], ended=time.time())


@probe.post("/reset-peak")
async def reset_peak():
    _in_flight["peak"] = 0
    _gathering.update(count=0, event=None)
    return jsonify(ok=True)


_gathering: dict = {"count": 0, "event": None}


@probe.get("/gather")
async def gather():
    """Wait until ``n`` requests are waiting here at once (or 10 s pass); report how many were.

    Reaching ``n`` proves the worker holds ``n`` requests in flight together: a design bounded
    by a thread pool would stall at its thread count and time out instead.
    """
    target = int(request.args.get("n", "100"))
    if _gathering["event"] is None:
        _gathering["event"] = asyncio.Event()
    event = _gathering["event"]
    _gathering["count"] += 1
    if _gathering["count"] >= target:
        event.set()
    try:
        async with asyncio.timeout(10):
            await event.wait()
    except TimeoutError:
        return jsonify(reached=False, waiting=_gathering["count"])
    return jsonify(reached=True, waiting=_gathering["count"])


@probe.get("/db-sleep")
async def db_sleep():
    """Hold a transaction open in PostgreSQL for ``seconds``."""
    session_ = await get_session()
    seconds = float(request.args.get("seconds", "5"))
    await session_.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
    return jsonify(ok=True)


@probe.get("/insert-then-fail")
async def insert_then_fail():
    session_ = await get_session()
    await session_.execute(
        text("INSERT INTO categories (name, slug) VALUES ('Doomed', 'doomed')")
    )
    await session_.flush()
    raise RuntimeError("boom after insert")


@probe.get("/pool")
async def pool_status():
    from app.data.database import get_database

    pool = get_database().engine.pool
    return jsonify(checked_out=pool.checkedout(), size=pool.size())


_streams: dict = {"produced": 0, "closed": False, "finished": False}


@probe.get("/stream")
async def stream():
    """Stream ``chunks`` chunks of ``size`` bytes, one database statement per chunk (``sleep_at``:
    that chunk first sleeps ``sleep`` seconds in PostgreSQL). ``/stream-state`` tells how many
    chunks were produced and whether the generator was closed before its end."""
    chunks = int(request.args.get("chunks", "10"))
    size = int(request.args.get("size", "1024"))
    sleep_at = int(request.args.get("sleep_at", "-1"))
    mimetype = request.args.get("type", "application/octet-stream")
    _streams.update(produced=0, closed=False, finished=False)

    async def generate():
        session_ = await get_session()
        try:
            for number in range(chunks):
                if number == sleep_at:
                    await session_.execute(text("SELECT pg_sleep(:s)"),
                                           {"s": float(request.args.get("sleep", "30"))})
                digit = await session_.scalar(text("SELECT :n % 10"), {"n": number})
                _streams["produced"] += 1
                yield str(digit).encode() * size
            _streams["finished"] = True
        finally:
            _streams["closed"] = True

    return streamed(generate(), mimetype=mimetype)


@probe.get("/stream-fails")
async def stream_fails():
    """A streamed body whose generator fails (``after`` chunks first)."""
    after = int(request.args.get("after", "0"))

    def generate():
        for _ in range(after):
            yield b"y" * 1024
        raise RuntimeError("the stream broke")

    return streamed(generate(), mimetype="text/plain")


@probe.get("/stream-state")
async def stream_state():
    return jsonify(_streams)


@probe.get("/rss")
def rss():
    """This worker's resident memory in kB."""
    status = Path("/proc/self/status").read_text()
    return jsonify(kb=int(next(line.split()[1] for line in status.splitlines()
                                if line.startswith("VmRSS:"))))


@probe.errorhandler(LookupError)
async def lookup_error(error: LookupError):
    return jsonify(error="lookup", path=request.path), 418


@probe.get("/lookup-error")
async def raise_lookup():
    raise LookupError("missing")


@probe.teardown_request
async def async_teardown(error):
    if request.path.endswith("/context"):
        current_app.extensions.setdefault("probe_teardowns", []).append(request.path)


def create_probe_app(**overrides) -> VitrineFlask:
    for key in ("REQUEST_TIMEOUT", "MAX_CONCURRENT_REQUESTS", "REQUEST_QUEUE_TIMEOUT"):
        if f"PROBE_{key}" in os.environ:
            overrides.setdefault(key, float(os.environ[f"PROBE_{key}"]))
    app = create_app("testing", **overrides)
    app.config["WTF_CSRF_ENABLED"] = False
    app.register_blueprint(probe)
    return app
