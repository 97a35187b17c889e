"""Logs: JSON lines, and every line logged during a request carries that request's id."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time

import httpx
import pytest
from flask import Blueprint, jsonify

from app import create_app
from app.ops.logging import RequestIdFilter, VitrineJsonFormatter
from app.runtime import VitrineFlask
from app.runtime.asgi import current_request_id
from tests.support.live import start_server

view_log = logging.getLogger("vitrine.test.view")
speaking = Blueprint("speaking", __name__)


@speaking.get("/_speak")
async def speak():
    await asyncio.sleep(0.05)  # the id survives awaiting (and other requests meanwhile)
    view_log.warning("inside the view")
    return jsonify(ok=True)


def create_speaking_app() -> VitrineFlask:
    """The app plus one view that logs (served by the live test below)."""
    application = create_app("testing")
    application.register_blueprint(speaking)
    return application


def server_lines(server, message: str, count: int) -> list[dict]:
    """The JSON lines with ``message`` in the server's output (waits for the log thread)."""
    deadline = time.monotonic() + 10
    while True:
        lines = []
        for line in server.log().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("message") == message:
                    lines.append(record)
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


@pytest.mark.live
def test_a_line_logged_in_a_view_has_the_request_id_of_its_response(database_url, tmp_path):
    server = start_server(database_url, tmp_path, app=f"{__name__}:create_speaking_app()",
                          env={"VITRINE_LOG_LEVEL": "INFO"})

    async def together() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            return await asyncio.gather(
                client.get("/_speak", headers={"X-Request-ID": "client-chosen-id"}),
                *(client.get("/_speak") for _ in range(4)),
            )

    try:
        responses = asyncio.run(together())
        assert all(response.status_code == 200 for response in responses)
        ids = {response.headers["X-Request-ID"] for response in responses}
        assert "client-chosen-id" in ids and len(ids) == 5
        logged = server_lines(server, "inside the view", 5)
        requests = server_lines(server, "request", 5)
    finally:
        server.stop()
    assert {line["request_id"] for line in logged} == ids
    assert all(line["level"] == "warning" and line["logger"] == view_log.name for line in logged)
    assert ids <= {line["request_id"] for line in requests}


def test_the_formatter_writes_one_json_object_with_the_extra_fields():
    formatter = VitrineJsonFormatter()
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord("vitrine.x", logging.ERROR, __file__, 1, "failed %s", ("now",),
                                   exc_info=sys.exc_info())
    record.path = "/p"
    line = json.loads(formatter.format(record))
    assert line["message"] == "failed now" and line["level"] == "error"
    assert line["path"] == "/p" and "ValueError: bad" in line["exc_info"]
    assert line["ts"].endswith("Z")


def test_the_filter_adds_the_current_request_id_but_keeps_a_given_one():
    request_filter = RequestIdFilter()
    token = current_request_id.set("abc-1")
    try:
        plain = logging.makeLogRecord({"msg": "x"})
        given = logging.makeLogRecord({"msg": "x", "request_id": "mine"})
        assert request_filter.filter(plain) and request_filter.filter(given)
    finally:
        current_request_id.reset(token)
    assert plain.request_id == "abc-1" and given.request_id == "mine"
    outside = logging.makeLogRecord({"msg": "x"})
    request_filter.filter(outside)
    assert not hasattr(outside, "request_id")
