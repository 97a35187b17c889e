"""Streamed responses: a body sent chunk by chunk as a generator produces it.

The ASGI adapter (:mod:`app.runtime.asgi`) sends any response without ``Content-Length`` as
it is produced, with backpressure, a per-chunk deadline and cancellation when the client goes
away. :func:`streamed` builds such a response from a generator that may use the request (its
database session included): Flask's ``stream_with_context`` keeps the request context pushed
until the generator ends, and the request's teardown (which returns the connection to the
pool) runs then - also when the generator is closed early. An ``async`` generator (one that
awaits, e.g. ``AsyncSession.stream``) is driven through the bridge by :func:`iterate_async`.

Take the database session *inside* the generator (``await get_session()`` in its body): the
session a view took is closed when the view returns, before the body is sent; the one taken in
the generator is closed by the teardown at the end of the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from flask import Response, stream_with_context

from ..runtime.bridge import await_in_greenlet

__all__ = ["iterate_async", "streamed"]


def iterate_async(chunks: AsyncIterator[bytes]) -> Iterator[bytes]:
    """A synchronous iterator over an async generator, each step awaited on the request's loop
    (inside the bridge greenlet); closing it closes the async generator (its ``finally`` and
    ``async with`` blocks run, a server-side cursor is closed)."""
    try:
        while True:
            try:
                chunk = await_in_greenlet(anext(chunks))
            except StopAsyncIteration:
                return
            yield chunk
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await_in_greenlet(aclose())


def streamed(chunks: Iterator[bytes] | AsyncIterator[bytes], *, mimetype: str,
             headers: dict[str, str] | None = None, **kwargs: Any) -> Response:
    """A response sent as ``chunks`` yields (sync or async generator), in the request's
    context."""
    body = chunks if isinstance(chunks, Iterator) else iterate_async(chunks)
    return Response(stream_with_context(body), mimetype=mimetype, headers=headers, **kwargs)
