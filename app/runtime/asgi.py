"""The ASGI entry point: serve Flask's WSGI handling on the server's event loop.

For each HTTP request the adapter reads the body (bounded), builds a WSGI environ, waits for a
slot under the worker's concurrency limit and runs ``app.wsgi_app`` in a greenlet on the loop.
Async views are awaited on that same loop (see :mod:`.bridge`). A request that waits too long for
a slot, or runs past the request timeout, is cancelled and answered 503 with ``Retry-After``; a
client that disconnects cancels its request, so stale searches stop using database connections.

**Streaming.** A response without ``Content-Length`` - Werkzeug sets it on every body it holds
whole, so this is exactly a Flask response whose body is a generator (see
:mod:`app.web.streaming`) - is not drained: its chunks are sent as the generator yields them,
each ``await send`` before the next chunk is produced (backpressure: a slow reader slows the
generator, the worker holds one chunk). The generator runs in one bridge greenlet, so it may
await database work like any view. The request keeps its slot while it streams (it holds a
database connection). Before the first chunk the request timeout applies as usual (a 503 can
still be sent); once streaming, the deadline is renewed after each chunk sent: every chunk must
be produced *and* accepted by the client within ``REQUEST_TIMEOUT`` (so a stuck query or a
client that stopped reading is cut, and a transaction is never left idle past PostgreSQL's
``idle_in_transaction_session_timeout``), and the whole stream may last at most
``STREAM_TIMEOUT``. A client that goes away, or a deadline passed, cancels the task: the
generator is closed (its ``finally`` runs, its query is cancelled in PostgreSQL), the request
teardown returns its connection to the pool, and the response is ended without its last chunk
so the client sees a truncated body, never a complete-looking one. Streamed bodies are
compressed incrementally (:class:`~.compression.StreamEncoder`).
"""

from __future__ import annotations

import asyncio
import gc
import io
import itertools
import logging
import re
import secrets
import sys
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from .allowances import RouteAllowances
from .bodies import (
    BodyBudget,
    BodyBudgetSpent,
    BodyClaim,
    BodyLimits,
    BodyTooLarge,
    BodyTooSlow,
    ClientGone,
    has_credentials,
    read_body,
)
from .bridge import await_in_greenlet, greenlet_spawn
from .compression import (
    Memo,
    StaticCompressionCache,
    choose_encoding,
    compress_body,
    compressible,
    encoded_headers,
    stream_encoder,
)
from .events import EventStream, StreamRegistry
from .hypercorn_memory import AppQueue
from .hypercorn_memory import install as slim_hypercorn
from .memory import TRIM_THRESHOLD, Trimmer
from .shutdown import (
    connection_closing,
    leave_sigterm_to_the_server,
    server_terminating,
    termination_waiter,
)
from .types import Receive, Scope, Send


class ServedApp(Protocol):
    """What the adapter needs of the app it serves (:class:`~.flask_app.VitrineFlask`)."""

    @property
    def config(self) -> Mapping[str, Any]: ...

    @property
    def extensions(self) -> Mapping[str, Any]: ...

    def wsgi_app(self, environ: Any, start_response: Any) -> Iterable[bytes]: ...

    async def run_shutdown_hooks(self) -> None: ...

log = logging.getLogger("vitrine.request")
errors_log = logging.getLogger("vitrine.errors")

ABORT_KEY = "vitrine.abort"
REQUEST_ID_KEY = "vitrine.request_id"
#: Why a request was answered 503, when the app (not the adapter) decided it (for metrics).
UNAVAILABLE_KEY = "vitrine.unavailable"
#: The app's observer of requests (:class:`RequestObserver`), in ``app.extensions``.
OBSERVER_KEY = "vitrine.request_observer"
#: The id of the request being handled. Each ASGI request runs in its own task, hence its own
#: context, and the bridge greenlet shares it: every log line of the request can carry the id.
current_request_id: ContextVar[str | None] = ContextVar("vitrine_request_id", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_FILE_CHUNK = 64 * 1024
#: Seconds a request runs before the adapter starts watching its client and its deadline.
WATCH_DELAY = 0.05
# Request ids: a random per-process prefix and a counter (no syscall per request, unlike uuid4).
_ID_PREFIX = secrets.token_hex(4)
_ID_COUNTER = itertools.count(1)


class FileWrapper:
    """``wsgi.file_wrapper``: lets the adapter read files in a thread, off the event loop."""

    def __init__(self, file: Any, block_size: int = _FILE_CHUNK) -> None:
        self.file = file
        self.block_size = block_size

    def __iter__(self) -> Iterable[bytes]:  # only used by callers that are not the adapter
        while chunk := self.file.read(self.block_size):
            yield chunk

    def close(self) -> None:
        self.file.close()


@dataclass
class WSGIResult:
    """What the WSGI call produced: status, headers and a body already drained of async work."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    file: FileWrapper | None = None
    #: A streamed body (the WSGI iterable, not yet consumed), see the module docstring.
    stream: Iterable[bytes] | None = None
    #: The response's headers went out (a streamed one): nothing else may be sent.
    started: bool = False
    #: An event stream (:mod:`.events`): served after the request has finished.
    events: EventStream | None = None


def split_path(scope: Scope) -> tuple[str, str]:
    """``(SCRIPT_NAME, PATH_INFO)`` for an ASGI scope, as in asgiref's ``WsgiToAsgi``.

    Under the ASGI spec (and Hypercorn since 0.17) ``path`` is the whole request path, prefix
    included, and ``root_path`` is the prefix the app is mounted at: ``/shop/products`` with
    ``root_path=/shop`` is PATH_INFO ``/products``, so URLs the app builds get the prefix once.
    The prefix is removed only at a segment boundary (``/shopping`` is not under ``/shop``); a
    path without it (a proxy that already stripped it) is passed on whole.
    """
    root_path = scope.get("root_path", "").rstrip("/")
    path: str = scope["path"]
    if root_path and (path == root_path or path.startswith(root_path + "/")):
        path = path[len(root_path):]
    return root_path, path


def make_request_id(client_id: str | None) -> str:
    """The client's ``X-Request-ID`` when well-formed, else a new process-unique id."""
    if client_id is not None and _REQUEST_ID.match(client_id):
        return client_id
    return f"{_ID_PREFIX}-{next(_ID_COUNTER):x}"


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """Translate an ASGI HTTP scope and its body into a PEP 3333 environ."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    script_name, path_info = split_path(scope)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path_info.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
        "CONTENT_LENGTH": str(len(body)),
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name == "content-length":
            continue  # the body is fully read; its real length was set above
        elif "_" in name:
            continue  # "X_Forwarded" would collide with "X-Forwarded" in WSGI; drop it
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def pump(iterable: Iterable[bytes], emit: Callable[[bytes], Awaitable[None]]) -> None:
    """Run a streamed body step by step (inside a bridge greenlet), awaiting ``emit`` for each
    chunk before asking for the next; always closes the body (a cancellation raised at any
    await, in the generator or in ``emit``, closes the generator and ends the request)."""
    iterator: Iterator[bytes] = iter(iterable)
    try:
        for chunk in iterator:
            if chunk:
                await_in_greenlet(emit(chunk))
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()


def drain(result: WSGIResult) -> None:
    """Hold a streamed body whole (callers that cannot stream: the test client, error pages)."""
    if result.stream is not None:
        stream, result.stream = result.stream, None
        pump(stream, _appender(result.body))


def _appender(body: list[bytes]) -> Callable[[bytes], Awaitable[None]]:
    async def append(chunk: bytes) -> None:
        body.append(chunk)
    return append


def call_wsgi(app: ServedApp, environ: dict[str, Any]) -> WSGIResult:
    """Run ``app.wsgi_app`` (inside a bridge greenlet) and drain its response iterable."""
    result = WSGIResult()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        result.status = int(status.split(" ", 1)[0])
        result.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]
        return result.body.append

    iterable = app.wsgi_app(environ, start_response)
    if isinstance(iterable, EventStream):
        result.events = iterable  # held for nothing: served by the adapter after the request
        return result
    if isinstance(iterable, FileWrapper):
        result.file = iterable
        return result
    if all(name != b"content-length" for name, _ in result.headers):
        result.stream = iterable  # a generator body: sent as it is produced
        return result
    try:
        for chunk in iterable:
            if chunk:
                result.body.append(chunk)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return result


class _Watch:
    """Cancels a request's task when its client disconnects or its time runs out.

    Most requests finish long before either could happen, so nothing is started for them but
    one timer: only a request still running after ``WATCH_DELAY`` gets a task that listens for
    ``http.disconnect`` until the request's deadline. ``reason`` says why it cancelled, if it did.
    """

    def __init__(self, task: asyncio.Task[Any], receive: Receive | None, timeout: float,
                 stream_timeout: float = 0.0) -> None:
        loop = asyncio.get_running_loop()
        self.reason: str | None = None
        self._task = task
        self._receive = receive
        self._timeout = timeout
        self._deadline = loop.time() + timeout
        self._cap = loop.time() + max(stream_timeout, timeout)
        self._timer = loop.call_later(min(WATCH_DELAY, timeout), self._start)
        self._watcher: asyncio.Task[None] | None = None
        self._scope: asyncio.Timeout | None = None
        #: The streamed response being sent, if any.
        self.streaming: WSGIResult | None = None

    def renew(self) -> None:
        """A streamed chunk went out: the next one has ``timeout`` seconds again (within the
        stream's cap)."""
        self._deadline = min(asyncio.get_running_loop().time() + self._timeout, self._cap)
        if self._scope is not None:
            self._scope.reschedule(self._deadline)

    def _start(self) -> None:
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        try:
            async with asyncio.timeout_at(self._deadline) as scope:
                self._scope = scope
                receive = self._receive
                if receive is None:  # no client to listen to: only the deadline applies
                    await asyncio.get_running_loop().create_future()
                else:
                    while (await receive())["type"] != "http.disconnect":
                        pass
            self.reason = "client_disconnected"
        except TimeoutError:
            self.reason = "timeout"
        self._task.cancel()

    def close(self) -> None:
        self._timer.cancel()
        if self._watcher is not None:
            self._watcher.cancel()


class _Disconnect:
    """Cancels an event stream's task when its client goes away (``http.disconnect``).

    An idle stream waits in two places at once: for its next event (its own task) and for its
    client to leave. The second wait is a future with a done callback, re-armed if a message
    other than the disconnect arrives: from Hypercorn's request queue directly when it is the
    slim one (:meth:`.hypercorn_memory.AppQueue.next_item`: no task at all), else a task
    running ``receive()`` itself - no coroutine of ours around it, no closure: thousands of
    streams each hold one (see :mod:`.events`). A ``receive`` that fails is taken as the
    client being gone (the stream could not tell otherwise)."""

    __slots__ = ("_receive", "_task", "_waiting", "happened")

    def __init__(self, task: asyncio.Task[Any], receive: Receive) -> None:
        self._task = task
        self._receive = receive
        self.happened = False
        self._waiting = self._arm()

    def _arm(self) -> asyncio.Future[Any]:
        queue = getattr(self._receive, "__self__", None)
        waiting = (queue.next_item() if isinstance(queue, AppQueue)
                   else asyncio.ensure_future(self._receive()))
        waiting.add_done_callback(self._received)
        return waiting

    def _received(self, waiting: asyncio.Future[Any]) -> None:
        if waiting.cancelled():
            return
        if waiting.exception() is None and waiting.result()["type"] != "http.disconnect":
            self._waiting = self._arm()
            return
        self.happened = True
        self._task.cancel()

    def close(self) -> None:
        self._waiting.cancel()


#: Sends a streamed response while its request holds its slot (see :meth:`ASGIAdapter.execute`).
Deliver = Callable[[WSGIResult, "_Watch"], Awaitable[None]]


class RequestObserver:
    """What the adapter reports about each request; this default ignores it.

    :mod:`app.ops.metrics` installs one under ``app.extensions[OBSERVER_KEY]``. The calls are
    synchronous, on the loop, a few per request: they must be cheap.
    """

    def waiting(self, delta: int) -> None:
        """A request started (+1) or stopped (-1) waiting for a slot."""

    def running(self, delta: int) -> None:
        """A request took (+1) or gave back (-1) a slot."""

    def streaming(self, delta: int) -> None:
        """An event stream opened (+1) or closed (-1); it holds no slot."""

    def finished(self, environ: dict[str, Any], status: int, seconds: float, outcome: str) -> None:
        """A request ended with ``status`` (499: no response) after ``seconds``."""


#: HTTP versions with a ``Connection`` header (HTTP/2 and 3 close with GOAWAY instead).
_HTTP1 = frozenset({"1.0", "1.1"})

#: How each refused body is answered, and the outcome logged for it.
_REFUSALS: dict[type[Exception], tuple[int, str]] = {
    BodyTooLarge: (413, "body_too_large"),
    BodyTooSlow: (408, "body_timeout"),
    BodyBudgetSpent: (503, "body_budget"),
}


def freeze_startup_heap() -> None:
    """Move every object alive after start-up out of the garbage collector's sight.

    By the time a worker serves, it holds a few hundred thousand long-lived objects: modules,
    Flask, SQLAlchemy's mappers and compiled statements, Jinja's templates. CPython's cyclic
    collector walks all of them again at every full (oldest-generation) collection, although
    none will ever be garbage: measured on the search endpoint, ~0.35 ms per request on average,
    as an 80 ms pause every ~450 requests. ``gc.freeze()`` (after a collection, so no garbage is
    frozen with them) puts them in a permanent generation the collector skips; requests' own
    objects are collected as before. Hypercorn creates the app in each worker process before
    the lifespan startup, so this runs once per worker, after the app and its imports.
    """
    gc.collect()
    gc.freeze()


#: Net container allocations between two young-generation collections in a served worker
#: (CPython's default: 700). See :func:`space_young_collections`.
YOUNG_COLLECTION_THRESHOLD = 10_000


def space_young_collections() -> None:
    """Collect the young generation every :data:`YOUNG_COLLECTION_THRESHOLD` net allocations
    instead of every 700.

    A search allocates tens of thousands of short-lived objects (rows, facet values, the
    template's context and markup); nearly all are freed by reference counting, but at 700 the
    collector still ran about every other request, each run costing ~0.9 ms whatever it found
    - and every tenth run the middle generation as well. Measured in-process over the search
    mix (600 requests, response cache off, time inside the collector from ``gc.callbacks``):
    700 spent 0.42 ms per request collecting (297 young runs), 5,000 0.24 ms, 10,000 0.20 ms
    (13 runs of ~7.5 ms), 25,000 0.28 ms (6 runs of ~28 ms: longer pauses, no saving). A
    young collection stays bounded by the threshold, and cycles are still found, later.
    """
    _young, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *older)


class ASGIAdapter:
    """ASGI 3 application wrapping one :class:`~app.runtime.flask_app.VitrineFlask` app."""

    def __init__(self, app: ServedApp) -> None:
        self.app = app
        config = app.config
        self.body_limits = BodyLimits.from_config(config)
        self.body_budget = BodyBudget(int(config["UNAUTH_BODY_BUDGET"]))
        #: The app's route-level body allowances (:mod:`.allowances`), if it declares any.
        self.allowances: RouteAllowances | None = getattr(app, "allowances", None)
        self.session_cookie = str(config.get("SESSION_COOKIE_NAME") or "session")
        self.trimmer = Trimmer()
        self.queue_timeout = float(config["REQUEST_QUEUE_TIMEOUT"])
        self.request_timeout = float(config["REQUEST_TIMEOUT"])
        self.stream_timeout = float(config.get("STREAM_TIMEOUT", self.request_timeout))
        self.retry_after = int(config["RETRY_AFTER_SECONDS"])
        self.max_concurrent = int(config["MAX_CONCURRENT_REQUESTS"])
        self.observer: RequestObserver = app.extensions.get(OBSERVER_KEY) or RequestObserver()
        self.compression = bool(config.get("COMPRESSION", True))
        self.static_compression = StaticCompressionCache()
        self.compression_memo = Memo()
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self.max_streams = int(config.get("MAX_STREAMS", 0))
        self._streams: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StreamRegistry] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle_http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.handle_lifespan(receive, send)
        else:  # websockets are not part of Vitrine
            await send({"type": "websocket.close", "code": 1000})

    async def handle_lifespan(self, receive: Receive, send: Send) -> None:
        """At startup: leave a group SIGTERM to the server's main process
        (:func:`.shutdown.leave_sigterm_to_the_server`), slim Hypercorn's per-connection objects
        (:mod:`.hypercorn_memory`: the event streams' memory), freeze the start-up heap
        (:func:`freeze_startup_heap`), collect the young generation less often
        (:func:`space_young_collections`) and run the app's
        startup hooks (the live feed's listener); close the event streams and dispose of the
        worker's resources at shutdown. The connection pool is created on the worker's loop by
        its first request."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                leave_sigterm_to_the_server()
                slim_hypercorn()
                freeze_startup_heap()
                space_young_collections()
                startup = getattr(self.app, "run_startup_hooks", None)
                if startup is not None:
                    await startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.streams().close_all()
                await self.app.run_shutdown_hooks()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def streams(self) -> StreamRegistry:
        """The event streams the running loop holds (see :mod:`.events`)."""
        loop = asyncio.get_running_loop()
        registry = self._streams.get(loop)
        if registry is None:
            registry = self._streams[loop] = StreamRegistry(self.max_streams)
        return registry

    def _watch_shutdown(self, send: Send) -> None:
        """From this loop's first request on, wait for the server's graceful shutdown: then log
        that it began (``shutting down``: the instant after which every response says
        ``Connection: close``) and end the event streams."""
        registry = self.streams()
        if not registry.watching:
            registry.watch_shutdown(termination_waiter(send), _log_shutdown)

    def _slots_for_loop(self) -> asyncio.Semaphore:
        """The concurrency limit of the running loop (a semaphore belongs to one loop)."""
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.max_concurrent)
        return slots

    async def handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        header = next((v for k, v in scope.get("headers", []) if k == b"x-request-id"), None)
        request_id = make_request_id(None if header is None else header.decode("latin-1"))
        current_request_id.set(request_id)
        if server_terminating(send) and connection_closing(send):
            # Parsed from an idle keep-alive connection the shutting-down server has just
            # closed: its response could not be delivered, so it is not run (see .shutdown).
            self._log(scope, 499, started, request_id, "connection_closed")
            return
        self._watch_shutdown(send)
        anonymous = not has_credentials(scope, self.session_cookie)
        claim = BodyClaim(self.body_budget if anonymous else None)
        allowance = None if anonymous else self._allowance_of(scope)
        try:
            try:
                body = await read_body(scope, receive, self.body_limits, claim, allowance)
            except ClientGone:
                self._log(scope, 499, started, request_id, "client_disconnected")
                return
            except (BodyTooLarge, BodyTooSlow, BodyBudgetSpent) as refusal:
                code, outcome = _REFUSALS[type(refusal)]
                claim.release()  # the partial body is gone: give its bytes back at once
                await self._refuse(scope, send, code, outcome, started, request_id)
                return
            environ = build_environ(scope, body)
            del body
            environ[REQUEST_ID_KEY] = request_id

            async def deliver(streamed: WSGIResult, watch: _Watch) -> None:
                await self._stream(scope, send, streamed, request_id, environ, watch)

            result, outcome = await self.execute(environ, receive, deliver)
        finally:
            claim.release()
            self.trimmer.released(claim.received)
        if result is None:
            self._log(scope, 499, started, request_id, outcome)
            return
        if result.events is not None:
            # This frame lives as long as the stream: what only the request needed goes now.
            deliver = claim = allowance = header = None  # type: ignore[assignment]
            outcome = await self._serve_events(scope, receive, send, result, request_id, environ)
        elif not result.started:
            await self._send(scope, send, result, request_id)
        self._log(scope, result.status, started, request_id, outcome)

    def _allowance_of(self, scope: Scope) -> Callable[[], int | None] | None:
        """The route's larger body allowance, looked up only if a body needs it (a request
        with credentials; anonymous ones keep the app-wide limit, see :mod:`.allowances`)."""
        allowances = self.allowances
        if allowances is None:
            return None

        def lookup() -> int | None:
            script_name, path_info = split_path(scope)
            return allowances.for_scope(scope, script_name, path_info)

        return lookup

    async def _serve_events(self, scope: Scope, receive: Receive, send: Send,
                            result: WSGIResult, request_id: str, environ: dict[str, Any]) -> str:
        """Serve an event stream after its request has finished (see :mod:`.events`): no
        slot, no greenlet, no session; counted against ``MAX_STREAMS`` (503 beyond); ended
        cleanly when the client goes away or the server shuts down. Returns the outcome."""
        stream, result.events = result.events, None
        assert stream is not None
        task = asyncio.current_task()
        assert task is not None
        registry = self.streams()
        if not registry.admit(task):
            stream.on_refused()
            refused = await self._render_abort(environ, 503)
            result.status, result.headers, result.body = (
                refused.status, refused.headers, refused.body)
            await self._send(scope, send, refused, request_id)
            return "streams_full"
        self.observer.streaming(1)
        # An idle stream should cost little more than its socket: the request is over, so its
        # environ goes now (not when the stream ends), and the heap the request grew is given
        # back to the system (at most one trim a second, however many streams connect).
        environ.clear()
        # The request's headers (cookies and all, a few KB from a browser) are read by no one
        # from now on: Hypercorn keeps the scope for the connection's life, only its method,
        # version and path are used again.
        scope["headers"] = []
        self.trimmer.released(TRIM_THRESHOLD)
        disconnect = _Disconnect(task, receive)
        chunks: Any = None
        try:
            start = {"type": "http.response.start", "status": result.status,
                     "headers": self._final_headers(scope, send, result.headers, request_id)}
            await send(start)
            # The headers are on the wire; Hypercorn keeps the message for the stream's life
            # but reads only its status again: neither copy is kept (~2 KB a stream).
            start["headers"] = result.headers = []
            result.started = True
            if stream.opening:
                await self._send_event_chunk(send, stream.opening)
            chunks = stream.events()
            async for chunk in chunks:
                await self._send_event_chunk(send, chunk)
            outcome = "stream_ended"
        except asyncio.CancelledError:
            if not disconnect.happened and not registry.closing:
                raise  # the server itself is cancelling us
            task.uncancel()
            outcome = "stream_" + ("client_disconnected" if disconnect.happened else "shutdown")
        except TimeoutError:
            outcome = "stream_timeout"  # the client stopped reading
        except Exception:
            errors_log.exception("event stream failed", extra={
                "request_id": request_id, "path": scope.get("path")})
            outcome = "stream_failed"
        finally:
            disconnect.close()
            registry.release(task)
            self.observer.streaming(-1)
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        if not disconnect.happened:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        return outcome

    async def _send_event_chunk(self, send: Send, chunk: bytes) -> None:
        async with asyncio.timeout(self.request_timeout):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def _refuse(self, scope: Scope, send: Send, code: int, outcome: str,
                      started: float, request_id: str) -> None:
        """Answer a request whose body was refused (too large, too slow, over the budget)
        without running it. Its body is unfinished, so the server closes the connection - and
        the response says so: a client that kept the connection for its next request (httpx,
        a browser) would otherwise send it to a socket that is closing, and get no answer."""
        environ = build_environ(scope, b"")
        environ[REQUEST_ID_KEY] = request_id
        refused = await self._render_abort(environ, code)
        self.observer.finished(environ, refused.status, time.perf_counter() - started, outcome)
        await self._send(scope, send, refused, request_id, closing=True)
        self._log(scope, refused.status, started, request_id, outcome)

    async def execute(
        self, environ: dict[str, Any], receive: Receive | None = None,
        deliver: Deliver | None = None,
    ) -> tuple[WSGIResult | None, str]:
        """Run one request under the concurrency limit, the request timeout and (given
        ``receive``) cancellation on client disconnect.

        Returns the response and an outcome: ``ok``; ``overloaded`` (no slot within the queue
        timeout) or ``timeout`` (cancelled after the request timeout), both answered 503 with
        ``Retry-After``; or ``client_disconnected`` with no response at all. A streamed
        response is handed to ``deliver`` while the request still holds its slot and its watch
        (it comes back with ``started`` set, its outcome ``stream_client_disconnected`` or
        ``stream_timeout`` if cut); without ``deliver`` it is drained and returned whole.
        """
        started = time.perf_counter()
        result, outcome = await self._execute_watched(environ, receive, deliver)
        status = 499 if result is None else result.status
        self.observer.finished(environ, status, time.perf_counter() - started, outcome)
        return result, outcome

    async def _execute_watched(
        self, environ: dict[str, Any], receive: Receive | None, deliver: Deliver | None
    ) -> tuple[WSGIResult | None, str]:
        task = asyncio.current_task()
        assert task is not None
        watch = _Watch(task, receive, self.request_timeout, self.stream_timeout)
        try:
            return await self._run_in_slot(environ, deliver, watch)
        except asyncio.CancelledError:
            if watch.reason is None:
                raise  # the server itself is cancelling us
            task.uncancel()
            if watch.streaming is not None and watch.streaming.started:
                return watch.streaming, "stream_" + watch.reason
            if watch.reason == "timeout":
                return await self._render_abort(environ, 503), "timeout"
            return None, watch.reason
        finally:
            watch.close()

    async def _run_in_slot(self, environ: dict[str, Any], deliver: Deliver | None = None,
                           watch: _Watch | None = None) -> tuple[WSGIResult, str]:
        slots = self._slots_for_loop()
        if slots.locked():  # full: wait in line, but not for longer than the queue timeout
            self.observer.waiting(1)
            try:
                async with asyncio.timeout(self.queue_timeout):
                    await slots.acquire()
            except TimeoutError:
                return await self._render_abort(environ, 503), "overloaded"
            finally:
                self.observer.waiting(-1)
        else:
            await slots.acquire()  # returns at once
        self.observer.running(1)
        try:
            result = await greenlet_spawn(call_wsgi, self.app, environ)
            if result.events is not None and deliver is None:  # cannot hold it: the opening
                stream, result.events = result.events, None
                result.body = list(stream)
            if result.stream is not None:
                if deliver is None or watch is None:
                    await greenlet_spawn(drain, result)
                else:
                    watch.streaming = result
                    await deliver(result, watch)
            return result, "ok"
        finally:
            slots.release()
            self.observer.running(-1)

    async def _render_abort(self, environ: dict[str, Any], code: int) -> WSGIResult:
        """Let Flask render an error page (HTML, fragment or JSON) for a refused request."""
        environ = dict(environ, **{ABORT_KEY: code})
        environ["wsgi.input"] = io.BytesIO(b"")
        environ["CONTENT_LENGTH"] = "0"
        result = await greenlet_spawn(call_wsgi, self.app, environ)
        await greenlet_spawn(drain, result)
        return result

    async def _stream(self, scope: Scope, send: Send, result: WSGIResult, request_id: str,
                      environ: dict[str, Any], watch: _Watch) -> None:
        """Send a streamed response as its generator yields (see the module docstring).

        The headers go out with the first chunk, so a generator that fails before producing
        anything still gets Flask's error page; one that fails later ends the response without
        its last chunk (the client sees it truncated) and is logged."""
        assert result.stream is not None
        stream, result.stream = result.stream, None
        headers, encoder = stream_encoder(result.headers, result.status,
                                          self._accept_encoding(scope, result))
        headers = self._final_headers(scope, send, headers, request_id)

        async def emit(chunk: bytes) -> None:
            if not result.started:
                result.started = True
                await send({"type": "http.response.start", "status": result.status,
                            "headers": headers})
            if encoder is not None:
                chunk = encoder.chunk(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            watch.renew()

        try:
            await greenlet_spawn(pump, stream, emit)
        except Exception:
            errors_log.exception("streamed response failed", extra={
                "request_id": request_id, "path": scope.get("path")})
            if not result.started:
                failed = await self._render_abort(environ, 500)
                result.status, result.headers, result.body = (
                    failed.status, failed.headers, failed.body)
            return  # started: ended without the last chunk, the client sees it truncated
        if not result.started:  # an empty stream
            await emit(b"")
        tail = encoder.finish() if encoder is not None else b""
        await send({"type": "http.response.body", "body": tail, "more_body": False})

    def _final_headers(self, scope: Scope, send: Send, headers: list[tuple[bytes, bytes]],
                       request_id: str, closing: bool = False) -> list[tuple[bytes, bytes]]:
        headers = headers + [(b"x-request-id", request_id.encode("latin-1"))]
        if scope.get("http_version", "1.1") in _HTTP1 and (closing or server_terminating(send)):
            # The server closes the connection after this response: say so, so the client does
            # not send its next request on a connection that will not read it.
            headers.append((b"connection", b"close"))
        return headers

    async def _send(self, scope: Scope, send: Send, result: WSGIResult, request_id: str,
                    closing: bool = False) -> None:
        headers = result.headers
        body: bytes | None = None
        accept_encoding = self._accept_encoding(scope, result)
        if accept_encoding is not None:
            if result.file is None:
                headers, body = compress_body(headers, result.status, b"".join(result.body),
                                              accept_encoding, self.compression_memo)
            else:
                headers, body = await self._compress_file(result, accept_encoding)
        headers = self._final_headers(scope, send, headers, request_id, closing)
        await send({"type": "http.response.start", "status": result.status, "headers": headers})
        if result.file is not None:
            try:
                while chunk := await asyncio.to_thread(result.file.file.read, _FILE_CHUNK):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            finally:
                await asyncio.to_thread(result.file.close)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if body is None:
            body = b"".join(result.body)
        await send({"type": "http.response.body", "body": body})

    async def _compress_file(self, result: WSGIResult, accept_encoding: bytes
                             ) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
        """A static file's headers and, when it is sent compressed, its compressed body (read
        and compressed in a thread, once per file version); else the file is streamed."""
        assert result.file is not None
        encoding = choose_encoding(accept_encoding)
        if encoding is not None:
            file = result.file
            compressed = await asyncio.to_thread(
                self.static_compression.compressed, file.file, encoding)
            if compressed is not None:
                await asyncio.to_thread(file.close)
                result.file = None
                return (encoded_headers(result.headers, encoding, len(compressed),
                                        weaken_etag=True), compressed)
        return encoded_headers(result.headers, None, 0), None

    def _accept_encoding(self, scope: Scope, result: WSGIResult) -> bytes | None:
        """The request's ``Accept-Encoding`` (``b""`` if none) when this response may be
        compressed; None when compression does not apply to it at all."""
        if not self.compression or scope.get("method") == "HEAD":
            return None
        if not compressible(result.headers, result.status):
            return None
        return next((v for k, v in scope.get("headers", []) if k == b"accept-encoding"), b"")

    def _log(
        self, scope: Scope, status: int, started: float, request_id: str, outcome: str
    ) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "outcome": outcome,
            },
        )


def _log_shutdown(streams: int) -> None:
    log.info("shutting down", extra={"streams": streams})


__all__ = [
    "ABORT_KEY", "ASGIAdapter", "FileWrapper", "REQUEST_ID_KEY", "WSGIResult", "build_environ",
    "OBSERVER_KEY", "RequestObserver", "UNAVAILABLE_KEY", "current_request_id", "make_request_id",
    "split_path",
]
