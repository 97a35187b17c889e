"""The dispatch benchmark's apps (``make bench``, section 1) answer the request it sends them.

A bench app that fails to start shows up only as a wall of tracebacks in the middle of a
benchmark run; these tests catch it before then.
"""

import asyncio
import json

import pytest

from app.runtime import VitrineFlask
from bench import apps


@pytest.mark.parametrize("factory", [apps.flask_sync, apps.flask_async_default,
                                     apps.vitrine_bridge])
def test_each_flask_variant_answers_the_health_check(factory):
    app = factory()
    try:
        response = app.test_client().get("/healthz")
        assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
    finally:
        if isinstance(app, VitrineFlask):
            app.close()  # its loop thread


def test_vitrine_bridge_runs_with_the_apps_own_runtime_limits():
    """Its runtime reads the body limits and timeouts the real app configures."""
    app = apps.vitrine_bridge()
    try:
        assert app.test_client().get("/sleep").get_json() == {"status": "ok"}
        adapter = app.asgi
        assert adapter.body_limits.timeout == app.config["BODY_TIMEOUT"] > 0
        assert adapter.max_concurrent == 1024  # room for every connection the bench opens
    finally:
        app.close()


def test_the_bare_asgi_ceiling_answers_the_same_body():
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(apps.bare_asgi()({"type": "http", "path": "/healthz"}, receive, send))
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"]) == {"status": "ok"}
