"""Event streams (``text/event-stream``): responses that stay open for hours, held for nothing.

A streamed response (:mod:`app.web.streaming`) keeps its request's slot, greenlet and database
session while it streams: right for a CSV export that reads a cursor, wrong for a live feed whose
connections are idle almost all the time. An event stream is instead split in two:

* the **view** runs as any request (slot, greenlet, session, ``REQUEST_TIMEOUT``): it checks
  authorization, reads what the stream needs, and returns :func:`event_stream_response` around
  an :class:`EventStream` - the opening bytes (e.g. a replay) and an *async iterator factory*
  that must not touch the request (no ``request``, ``g`` or database session: they are gone);
* the **adapter** (:mod:`.asgi`) recognises the body, finishes the request - its slot, greenlet
  and session are released, the teardown has run - then sends the opening and pumps the
  iterator directly on the event loop. No request timeout applies; each ``send`` must still be
  taken by the client within ``REQUEST_TIMEOUT`` (a reader that stopped reading is cut). The
  client going away, or the server shutting down, cancels the pump (the iterator's ``finally``
  runs) and ends the response cleanly; a client reconnects with ``Last-Event-ID``.

The number of open streams per worker is bounded (``MAX_STREAMS``): beyond it the connect is
answered 503 with ``Retry-After``. Never compressed (``text/event-stream`` is excluded from
compression, and a compressor would buffer the events).

A caller without a loop (Flask's test client) cannot hold a stream: it gets the opening bytes
and the response ends.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Response

__all__ = ["EventStream", "StreamRegistry", "event_stream_response"]

#: Headers of every event stream: never cached, never buffered by a proxy (nginx reads
#: ``X-Accel-Buffering``), never transformed.
STREAM_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
}


@dataclass
class EventStream:
    """The body of an event-stream response (see the module docstring)."""

    #: Sent at once after the headers (``retry:``, a replay); may be empty.
    opening: bytes
    #: Called once, on the loop, after the request has finished: the stream's chunks.
    events: Callable[[], AsyncIterator[bytes]]
    #: Called when the stream is refused (the worker is full) instead of run: releases what
    #: the view reserved (e.g. a subscription).
    on_refused: Callable[[], None] = field(default=lambda: None)

    def __iter__(self) -> Iterator[bytes]:
        """What a caller that cannot stream gets: the opening only."""
        self.on_refused()
        if self.opening:
            yield self.opening


def event_stream_response(stream: EventStream, **headers: str) -> Response:
    """A Flask response the adapter serves as an event stream."""
    response = Response(stream, mimetype="text/event-stream", direct_passthrough=True)
    response.headers.update(STREAM_HEADERS)
    response.headers.update(headers)
    return response


class StreamRegistry:
    """The event streams one worker (one event loop) holds: counted against ``MAX_STREAMS``,
    and cancelled together when the server shuts down."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closing = False
        self._shutdown_watch: asyncio.Task[None] | None = None

    @property
    def count(self) -> int:
        return len(self.tasks)

    def admit(self, task: asyncio.Task[Any]) -> bool:
        """Count ``task`` as a stream, unless the worker is full or shutting down."""
        if self.closing or len(self.tasks) >= self.limit:
            return False
        self.tasks.add(task)
        return True

    def release(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)

    @property
    def watching(self) -> bool:
        """Whether the server's termination is already watched on this loop."""
        return self._shutdown_watch is not None

    def watch_shutdown(self, wait: Callable[[], Any] | None,
                       began: Callable[[int], None] | None = None) -> None:
        """Close every stream when ``wait()`` (the server's termination event) returns, after
        telling ``began`` how many were open."""
        if wait is None or self._shutdown_watch is not None:
            return

        async def watch() -> None:
            await wait()
            if began is not None:
                began(self.count)
            self.close_all()

        # A context of its own: the request that happened to start the watch is long over
        # (its request id must not label the shutdown's log line).
        self._shutdown_watch = asyncio.get_running_loop().create_task(
            watch(), context=contextvars.Context())

    def close_all(self) -> None:
        """Refuse new streams and cancel the open ones (each ends its response cleanly)."""
        self.closing = True
        for task in list(self.tasks):
            task.cancel("vitrine: server shutting down")
