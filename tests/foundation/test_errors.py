"""Unexpected exceptions: a friendly page for the client, and for the maintainers a log line
with the traceback and the request id, Flask's ``got_request_exception`` (once) and, with
``SENTRY_DSN`` set, one Sentry event."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sentry_sdk
from flask import Blueprint, got_request_exception
from sentry_sdk.transport import Transport
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app import create_app
from app.data.database import get_session
from app.runtime import VitrineFlask


def boom_blueprint() -> Blueprint:
    bp = Blueprint("boom", __name__)

    @bp.get("/boom")
    @bp.get("/api/boom")
    async def boom() -> str:
        raise RuntimeError("kaboom with a secret")

    @bp.get("/boom/sql")
    async def bad_sql() -> str:
        session = await get_session()
        await session.execute(text("SELEC 'secret sql'"))
        return "unreachable"

    @bp.get("/boom/pool")
    async def pool_exhausted() -> str:
        raise PoolTimeout("QueuePool limit reached")

    return bp


def build(database_url: str, **overrides: Any) -> VitrineFlask:
    application = create_app("testing", DATABASE_URL=database_url, **overrides)
    application.register_blueprint(boom_blueprint())
    return application


@pytest.fixture(scope="module")
def boom_app(database_url) -> Iterator[VitrineFlask]:
    application = build(database_url)
    yield application
    application.close()


@contextmanager
def signals_and_logs(app: VitrineFlask) -> Iterator[tuple[list[BaseException], list]]:
    """Collect the exceptions ``got_request_exception`` announces and the error log records."""
    exceptions: list[BaseException] = []
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    def on_exception(sender: Any, exception: BaseException, **extra: Any) -> None:
        exceptions.append(exception)

    handler = Collect(logging.ERROR)
    logger = logging.getLogger("vitrine.errors")
    logger.addHandler(handler)
    try:
        with got_request_exception.connected_to(on_exception, app):
            yield exceptions, records
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(("path", "headers", "kind"), [
    ("/boom", {}, "page"),
    ("/boom", {"HX-Request": "true"}, "fragment"),
    ("/api/boom", {}, "json"),
])
def test_an_unexpected_error_is_signalled_once_and_logged_with_the_request_id(
        boom_app, path, headers, kind):
    client = boom_app.test_client()
    with signals_and_logs(boom_app) as (exceptions, records):
        response = client.get(path, headers={"X-Request-ID": "req-42", **headers})

    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-42"
    body = response.get_data(as_text=True)
    assert "secret" not in body and "Traceback" not in body
    if kind == "json":
        assert response.json == {"error": "Something went wrong on our side.", "status": 500}
    elif kind == "fragment":
        assert response.headers["HX-Retarget"] == "#messages" and "<html" not in body
        assert "Something went wrong" in body
    else:
        assert "<html" in body and "Something went wrong" in body

    assert [type(error) for error in exceptions] == [RuntimeError]
    assert str(exceptions[0]) == "kaboom with a secret"
    [record] = records
    assert record.request_id == "req-42"  # type: ignore[attr-defined]
    assert record.exc_info is not None and record.exc_info[1] is exceptions[0]


def test_a_failing_statement_is_reported_too(boom_app):
    with signals_and_logs(boom_app) as (exceptions, records):
        response = boom_app.test_client().get("/boom/sql")
    assert response.status_code == 500
    assert "secret sql" not in response.get_data(as_text=True)
    assert [type(error) for error in exceptions] == [ProgrammingError]
    assert len(records) == 1 and records[0].request_id  # type: ignore[attr-defined]


def test_refusals_and_an_exhausted_pool_are_not_reported(boom_app):
    client = boom_app.test_client()
    with signals_and_logs(boom_app) as (exceptions, records):
        assert client.get("/no-such-page").status_code == 404
        busy = client.get("/boom/pool")
        assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
    assert exceptions == [] and records == []


def test_an_error_no_handler_catches_is_logged_with_the_request_id(database_url):
    """One raised after the view (here by an ``after_request`` hook): Flask itself signals it
    and renders the 500 page; the log line still carries the request id."""
    application = build(database_url, PROPAGATE_EXCEPTIONS=False)

    @application.after_request
    def broken_hook(response):
        if response.status_code == 404:
            raise LookupError("hook failed")
        return response

    try:
        with signals_and_logs(application) as (exceptions, records):
            response = application.test_client().get("/missing",
                                                     headers={"X-Request-ID": "req-9"})
        assert response.status_code == 500 and "hook failed" not in response.text
        assert [type(error) for error in exceptions] == [LookupError]
        [record] = records
        assert record.request_id == "req-9"  # type: ignore[attr-defined]
        assert record.exc_info is not None and record.exc_info[1] is exceptions[0]
    finally:
        application.close()


class CapturedEvents(Transport):
    """A Sentry transport that keeps the events instead of sending them."""

    events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Any) -> None:
        self.events.extend(item.payload.json for item in envelope.items if item.type == "event")


@pytest.fixture
def sentry_events(monkeypatch) -> Iterator[list[dict[str, Any]]]:
    """Every ``sentry_sdk.init`` in the test uses :class:`CapturedEvents`; reset afterwards."""
    real_init = sentry_sdk.init
    CapturedEvents.events = []
    monkeypatch.setattr(sentry_sdk, "init",
                        lambda *args, **kwargs: real_init(*args, transport=CapturedEvents,
                                                          **kwargs))
    yield CapturedEvents.events
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def test_without_a_dsn_sentry_stays_off(database_url, sentry_events, boom_app):
    assert not sentry_sdk.get_client().is_active()
    boom_app.test_client().get("/boom")
    assert sentry_events == []


def test_sentry_gets_one_event_per_unexpected_error(database_url, sentry_events):
    application = build(database_url, SENTRY_DSN="https://public@sentry.invalid/1")
    try:
        assert sentry_sdk.get_client().is_active()
        client = application.test_client()
        assert client.get("/boom", headers={"X-Request-ID": "req-7"}).status_code == 500
        assert client.get("/no-such-page").status_code == 404
        assert client.get("/boom/pool").status_code == 503
        sentry_sdk.flush()
    finally:
        application.close()

    [event] = sentry_events
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError" and exception["value"] == "kaboom with a secret"
    assert event["tags"]["request_id"] == "req-7"
    assert event["request"]["url"].endswith("/boom")
    assert event["environment"] == "testing"
