"""The apps the dispatch benchmark compares: the same trivial JSON view, executed four ways.

Serve each with ``hypercorn --config bench/hypercorn-bench.toml "bench.apps:<factory>()"``.
"""

from __future__ import annotations

import asyncio
import json

from flask import Flask, jsonify

from app.config import load_settings
from app.runtime import VitrineFlask


def flask_sync() -> Flask:
    """Plain Flask, a sync view (Hypercorn serves it as WSGI from a thread pool)."""
    app = Flask("bench_sync")

    @app.get("/healthz")
    def hello():
        return jsonify(status="ok")

    return app


def flask_async_default() -> Flask:
    """Plain Flask, an ``async def`` view: asgiref starts a new event loop per call."""
    app = Flask("bench_async_default")

    @app.get("/healthz")
    async def hello():
        return jsonify(status="ok")

    return app


def vitrine_bridge() -> VitrineFlask:
    """Vitrine's runtime: ASGI; the view is awaited on the worker's loop (greenlet bridge)."""
    app = VitrineFlask("bench_vitrine")
    # The runtime reads its limits from the config: the app's own settings (body limits and
    # timeouts included), with room for every connection the benchmark opens.
    app.config.from_mapping(load_settings().flask_config())
    app.config.update(MAX_CONCURRENT_REQUESTS=1024)

    @app.get("/healthz")
    async def hello():
        return jsonify(status="ok")

    @app.get("/sleep")
    async def sleep():
        await asyncio.sleep(0.2)
        return jsonify(status="ok")

    return app


_BODY = json.dumps({"status": "ok"}).encode()


def bare_asgi():
    """The ceiling: a bare ASGI callable on the same server."""

    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": _BODY})

    return application


def flask_stream() -> Flask:
    """Flask's default dispatch (``app.run(threaded=True)``: a thread per connection) serving
    an event stream shaped like Vitrine's: each stream waits on its own queue and sends a
    heartbeat comment every 15 s (the streams section compares what idle streams cost)."""
    import queue

    from flask import Response

    app = Flask("bench_stream")

    @app.get("/stream")
    def stream():
        events: queue.Queue[bytes] = queue.Queue(maxsize=256)

        def body():
            yield b"retry: 1000\n\n"
            while True:
                try:
                    yield events.get(timeout=15)
                except queue.Empty:
                    yield b": hb\n\n"

        return Response(body(), mimetype="text/event-stream")

    return app
