"""Slimmer per-connection objects for Hypercorn's asyncio workers (the event streams' memory).

For every request Hypercorn (``hypercorn.asyncio.task_group.TaskGroup.spawn_app``) makes an
``asyncio.Queue`` that carries the request's ASGI messages (body chunks, ``http.disconnect``)
to the app, plus two helpers that only WSGI apps use. An ``asyncio.Queue`` holds three
``collections.deque`` and an ``asyncio.Event`` (a fourth deque): a deque costs 760 bytes even
empty, so the queue is ~3.5 KB, for a connection whose queue ever holds one or two messages.
Ordinary requests end in milliseconds and never notice; an event stream keeps its connection,
hence its queue, for hours, and a worker holds thousands of streams (``MAX_STREAMS``): this is
the largest single item of an idle stream's memory, 35 MB per 10,000 streams.

Each HTTP/1 connection also holds an ``asyncio.Event`` (``H11Protocol.can_read``, ~1 KB with
its deque and wrapper) that is waited on only while a pipelining client's next request waits
for the current response.

:func:`install` (called by a served worker at lifespan start-up) replaces ``spawn_app`` with
the same steps around an :class:`AppQueue` - the same FIFO, bound
(``max_app_queue_size``) and waiting semantics in a few slots - and helpers made once per loop
instead of per request; and makes the worker's events :class:`LazyEvent` objects, whose
``asyncio.Event`` is made only when someone waits. It applies only to the Hypercorn versions
whose ``spawn_app`` and ``EventWrapper`` it reproduces (else Hypercorn runs unchanged).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

__all__ = ["AppQueue", "LazyEvent", "install"]

log = logging.getLogger("vitrine.runtime")

#: Hypercorn releases whose ``TaskGroup.spawn_app`` :func:`_spawn_app` reproduces.
HYPERCORN_VERSIONS = ("0.17.", "0.18.")


class AppQueue:
    """``asyncio.Queue`` as Hypercorn uses it (``get`` and ``put``, FIFO, bounded): lists
    instead of deques, each waiters' list made when someone first waits."""

    __slots__ = ("_getters", "_items", "_maxsize", "_putters", "_takers")

    def __init__(self, maxsize: int = 0) -> None:
        self._items: list[Any] = []
        self._maxsize = maxsize
        self._getters: list[asyncio.Future[None]] | None = None
        self._putters: list[asyncio.Future[None]] | None = None
        self._takers: list[asyncio.Future[Any]] | None = None

    def qsize(self) -> int:
        return len(self._items)

    async def get(self) -> Any:
        while not self._items:
            if self._getters is None:
                self._getters = []
            await _wait(self._getters)
        item = self._items.pop(0)
        _wake(self._putters)
        return item

    def next_item(self) -> asyncio.Future[Any]:
        """A future of the next item, taken off the queue for it as soon as there is one:
        :meth:`get` without a task, for a consumer that only reacts to what comes (an event
        stream's disconnect watch: thousands wait at once). Cancel it to stop waiting."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._items:
            future.set_result(self._items.pop(0))
            _wake(self._putters)
        else:
            if self._takers is None:
                self._takers = []
            self._takers.append(future)
        return future

    async def put(self, item: Any) -> None:
        while 0 < self._maxsize <= len(self._items):
            if self._putters is None:
                self._putters = []
            await _wait(self._putters)
        self._items.append(item)
        takers = self._takers
        while takers:
            taker = takers.pop(0)
            if not taker.done():  # else cancelled: it no longer wants an item
                taker.set_result(self._items.pop(0))
                _wake(self._putters)
                return
        _wake(self._getters)


async def _wait(waiters: list[asyncio.Future[None]]) -> None:
    """Wait in ``waiters`` until woken. Cancelled after being woken, pass the turn on (as
    ``asyncio.Queue`` does: the item it was woken for must not wait for another put)."""
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.append(waiter)
    try:
        await waiter
    except BaseException:
        if waiter in waiters:
            waiters.remove(waiter)
        elif not waiter.cancelled():
            _wake(waiters)
        raise


def _wake(waiters: list[asyncio.Future[None]] | None) -> None:
    """Wake the first waiter still waiting."""
    while waiters:
        waiter = waiters.pop(0)
        if not waiter.done():
            waiter.set_result(None)
            return


class LazyEvent:
    """Hypercorn's ``EventWrapper`` (async ``set``/``clear``/``wait``, ``is_set``) with its
    ``asyncio.Event`` made on the first wait that has to wait."""

    __slots__ = ("_event", "_set")

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._set = False

    async def clear(self) -> None:
        self._set = False
        if self._event is not None:
            self._event.clear()

    async def wait(self) -> None:
        if self._set:
            return
        if self._event is None:
            self._event = asyncio.Event()
        await self._event.wait()

    async def set(self) -> None:
        self._set = True
        if self._event is not None:
            self._event.set()

    def is_set(self) -> bool:
        return self._set


def _helpers(loop: asyncio.AbstractEventLoop) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Hypercorn's ``sync_spawn`` and ``call_soon`` for ``loop`` (used by WSGI apps only)."""

    def call_soon(func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(func(*args), loop).result()

    return partial(loop.run_in_executor, None), call_soon


_HELPERS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, tuple[Callable[..., Any], Callable[..., Any]]] = (
    weakref.WeakKeyDictionary())


def install() -> bool:
    """Serve each request of this process's Hypercorn asyncio workers through an
    :class:`AppQueue`, with :class:`LazyEvent` objects; False (and nothing changed) on a Hypercorn
    this does not know."""
    try:
        from importlib.metadata import version

        from hypercorn.asyncio import task_group, worker_context
    except ImportError:
        return False
    if not version("hypercorn").startswith(HYPERCORN_VERSIONS):
        log.warning("hypercorn %s: its own request queues are kept", version("hypercorn"))
        return False
    handle = task_group._handle

    async def spawn_app(self: Any, app: Any, config: Any, scope: Any,
                        send: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        queue = AppQueue(config.max_app_queue_size)
        loop = self._loop
        helpers = _HELPERS.get(loop)
        if helpers is None:
            helpers = _HELPERS[loop] = _helpers(loop)
        self.spawn(handle, app, config, scope, queue.get, send, *helpers)
        return queue.put

    task_group.TaskGroup.spawn_app = spawn_app  # type: ignore[method-assign]
    # Events made from now on (the worker's own terminate/terminated already exist).
    worker_context.WorkerContext.event_class = LazyEvent
    return True
