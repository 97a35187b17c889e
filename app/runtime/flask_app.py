"""``VitrineFlask``: a Flask app that is an ASGI application and awaits async views on its loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, request
from flask.testing import FlaskClient
from werkzeug.test import run_wsgi_app
from werkzeug.wsgi import get_current_url

from .allowances import AllowanceRequest, RouteAllowances
from .asgi import ABORT_KEY, REQUEST_ID_KEY, ASGIAdapter, Receive, Scope, Send, make_request_id
from .bridge import make_sync
from .loop_thread import LoopThread

T = TypeVar("T")
Hook = Callable[[], Awaitable[None]]

#: Where unexpected exceptions are logged (:mod:`app.web.errors` logs the ones it catches here).
errors_log = logging.getLogger("vitrine.errors")


class VitrineFlask(Flask):
    """Flask, served as ASGI, with async views awaited on the worker's one event loop.

    * ``app(scope, receive, send)`` is the ASGI entry point Hypercorn serves.
    * :meth:`blocking_wsgi` is a synchronous WSGI entry for callers without a loop (the test
      client uses it); it runs the request on :attr:`loop_thread` through the same bridge.
    * :meth:`run_blocking` runs a coroutine on that loop thread (CLI commands, tests).
    """

    request_class = AllowanceRequest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowances: RouteAllowances | None = RouteAllowances(self)
        self.loop_thread = LoopThread()
        self._shutdown_hooks: list[Hook] = []
        self._startup_hooks: list[Hook] = []
        self._asgi: ASGIAdapter | None = None
        self._asgi_lock = threading.Lock()
        self.test_client_class = BridgedTestClient
        self.before_request(_abort_if_refused)

    # -- execution -------------------------------------------------------------------------
    def async_to_sync(self, func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        """Await ``func`` on the current event loop instead of asgiref's loop-per-call."""
        return make_sync(func)

    @property
    def asgi(self) -> ASGIAdapter:
        """The ASGI adapter, made on first use (it reads the config, which is loaded after
        ``__init__``). Made once under a lock: test-client threads reach it at the same time,
        and two adapters would mean two concurrency limits."""
        if self._asgi is None:
            with self._asgi_lock:
                if self._asgi is None:
                    self._asgi = ASGIAdapter(self)
        return self._asgi

    # Flask.__call__ is the WSGI entry (environ, start_response); this app is served as ASGI
    # instead, so the signature differs on purpose (WSGI callers use blocking_wsgi).
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        adapter = self.asgi
        if scope["type"] == "http":  # straight in: one coroutine less for a connection's life
            await adapter.handle_http(scope, receive, send)  # (an event stream's: hours)
        else:
            await adapter(scope, receive, send)

    def blocking_wsgi(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Serve one WSGI request synchronously, running it on the app's loop thread.

        Like a served request it carries a request id (the client's ``X-Request-ID`` if
        well-formed), which the error log shows and the response echoes.
        """
        request_id = make_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ[REQUEST_ID_KEY] = request_id
        result, _outcome = self.loop_thread.run(self.asgi.execute(environ))
        assert result is not None  # only a disconnecting ASGI client gets no response
        try:
            phrase = HTTPStatus(result.status).phrase
        except ValueError:
            phrase = ""
        start_response(
            f"{result.status} {phrase}",
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in result.headers]
            + [("X-Request-ID", request_id)],
        )
        if result.file is not None:
            with result.file.file as handle:
                return [handle.read()]
        return result.body

    def run_blocking(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to completion on the app's loop thread (for code with no loop)."""
        return self.loop_thread.run(coro)

    def log_exception(
        self, exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None]
    ) -> None:
        """Log an exception no error handler caught (one raised by a handler itself or by an
        ``after_request`` hook) the way the handlers log theirs: with the request id."""
        errors_log.error("unhandled error", exc_info=exc_info,
                         extra={"request_id": request.environ.get(REQUEST_ID_KEY),
                                "path": request.path})

    # -- lifecycle -------------------------------------------------------------------------
    def on_shutdown(self, hook: Hook) -> Hook:
        """Register a coroutine function awaited when a worker, or the loop thread, stops."""
        self._shutdown_hooks.append(hook)
        self.loop_thread.on_stop(hook)
        return hook

    def on_startup(self, hook: Hook) -> Hook:
        """Register a coroutine function awaited when a served worker starts (its lifespan
        startup); callers without a lifespan start what they need on first use."""
        self._startup_hooks.append(hook)
        return hook

    async def run_startup_hooks(self) -> None:
        for hook in self._startup_hooks:
            await hook()

    async def run_shutdown_hooks(self) -> None:
        for hook in reversed(self._shutdown_hooks):
            await hook()

    def close(self) -> None:
        """Stop the loop thread after running the shutdown hooks on it (tests, CLI)."""
        self.loop_thread.stop()


def _abort_if_refused() -> None:
    """Render the error page the ASGI layer decided on (overload, timeout, oversized body)."""
    code = request.environ.get(ABORT_KEY)
    if code:
        abort(code)


class BridgedTestClient(FlaskClient):
    """Flask's test client, sending requests through :meth:`VitrineFlask.blocking_wsgi`.

    Werkzeug's client calls ``app(environ, start_response)``; Vitrine's ``app(...)`` is ASGI, so
    this override (Werkzeug's own method with the entry point swapped) routes the call.
    """

    def run_wsgi_app(self, environ: dict[str, Any], buffered: bool = False) -> Any:
        app = self.application
        assert isinstance(app, VitrineFlask), "BridgedTestClient serves VitrineFlask apps only"
        self._add_cookies_to_wsgi(environ)
        rv = run_wsgi_app(app.blocking_wsgi, environ, buffered=buffered)
        url = urlsplit(get_current_url(environ))
        self._update_cookies_from_response(
            url.hostname or "localhost", url.path, rv[2].getlist("Set-Cookie")
        )
        return rv
