"""Sentry wiring: unexpected exceptions become Sentry events, one per exception.

They reach Sentry through Flask's ``got_request_exception`` signal, which
:func:`app.web.errors.report_unexpected` sends for every exception the friendly error pages catch;
Sentry's ``FlaskIntegration`` subscribes to it. Each event carries the request's method, URL and
endpoint and the request id (a tag), so it leads to the request's log lines. The same exception's
error log record is not sent a second time as an event of its own.

Imported only when ``SENTRY_DSN`` is set (see :mod:`.reporting`): ``sentry-sdk`` is an extra.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import sentry_sdk
from flask import Flask
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.integrations.logging import ignore_logger
from sentry_sdk.integrations.wsgi import get_request_url

from ..runtime.asgi import REQUEST_ID_KEY
from .errors import log as errors_log

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def start_sentry(app: Flask, dsn: str) -> None:
    """Initialise the process's Sentry client and route ``app``'s requests through it."""
    sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration()],
                    environment=app.config.get("ENV_NAME"))
    ignore_logger(errors_log.name)  # its records are reported by the signal already
    # Flask's documented way to add WSGI middleware; to mypy it replaces a method (and the
    # method's type includes self), hence the two codes.
    app.wsgi_app = isolated(app.wsgi_app)  # type: ignore[method-assign,assignment]


def isolated(wsgi_app: WSGIApplication) -> WSGIApplication:
    """Run each request in its own Sentry isolation scope.

    Sentry's Flask integration adds the request's details to the *current* isolation scope when
    the request starts. Its WSGI middleware would open a scope per request (and add the method
    and URL), but Vitrine calls ``wsgi_app`` from its ASGI adapter, not ``Flask.__call__`` where
    that middleware sits; without this, every request's details would pile up on one scope.
    """

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with sentry_sdk.isolation_scope() as scope:
            scope.set_tag("request_id", environ.get(REQUEST_ID_KEY))
            scope.add_event_processor(_request_processor(environ))
            return wsgi_app(environ, start_response)

    return app


def _request_processor(environ: WSGIEnvironment) -> Callable[[Any, Any], Any]:
    """An event processor adding the request's method, URL and query string (read now: the
    environ is not kept). Headers are left out: they may carry credentials."""
    details = {"method": environ.get("REQUEST_METHOD"),
               "url": get_request_url(environ, use_x_forwarded_for=False),
               "query_string": environ.get("QUERY_STRING", "")}

    def add_request(event: Any, hint: Any) -> Any:
        event.setdefault("request", {}).update(details)
        return event

    return add_request
