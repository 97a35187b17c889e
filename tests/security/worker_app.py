"""The real app, telling which worker process answered (``X-Worker-Pid``), so a test can show
that two Hypercorn workers shared one rate limit."""

from __future__ import annotations

import os

from app import create_app


def create_worker_app():
    app = create_app()

    @app.after_request
    def worker_pid(response):
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    return app
