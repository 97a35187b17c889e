"""A slimmer per-request queue for Hypercorn's asyncio workers (the event streams' memory).

For every request Hypercorn (``hypercorn.asyncio.task_group.TaskGroup.spawn_app``) makes an
``asyncio.Queue`` that carries the request's ASGI messages (body chunks, ``http.disconnect``)
to the app, plus two helpers that only WSGI apps use. An ``asyncio.Queue`` holds three
``collections.deque`` and an ``asyncio.Event`` (a fourth deque): a deque costs 760 bytes even
empty, so the queue is ~3.5 KB, for a connection whose queue ever holds one or two messages.
Ordinary requests end in milliseconds and never notice; an event stream keeps its connection,
hence its queue, for hours, and a worker holds thousands of streams (``MAX_STREAMS``): this is
the largest single item of an idle stream's memory, 35 MB per 10,000 streams.

:func:`install` (called by a served worker at lifespan start-up) replaces ``spawn_app`` with
the same steps around an :class:`AppQueue` - the same FIFO, bound
(``max_app_queue_size``) and waiting semantics in a few slots - and helpers made once per loop
instead of per request. It applies only to the Hypercorn versions whose ``spawn_app`` it
reproduces (else Hypercorn runs unchanged, with its own queue).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

__all__ = ["AppQueue", "install"]

log = logging.getLogger("vitrine.runtime")

#: Hypercorn releases whose ``TaskGroup.spawn_app`` :func:`_spawn_app` reproduces.
HYPERCORN_VERSIONS = ("0.17.", "0.18.")


class AppQueue:
    """``asyncio.Queue`` as Hypercorn uses it (``get`` and ``put``, FIFO, bounded): lists
    instead of deques, each waiters' list made when someone first waits."""

    __slots__ = ("_getters", "_items", "_maxsize", "_putters")

    def __init__(self, maxsize: int = 0) -> None:
        self._items: list[Any] = []
        self._maxsize = maxsize
        self._getters: list[asyncio.Future[None]] | None = None
        self._putters: list[asyncio.Future[None]] | None = None

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

    async def put(self, item: Any) -> None:
        while 0 < self._maxsize <= len(self._items):
            if self._putters is None:
                self._putters = []
            await _wait(self._putters)
        self._items.append(item)
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
    :class:`AppQueue`; False (and nothing changed) on a Hypercorn this does not know."""
    try:
        from importlib.metadata import version

        from hypercorn.asyncio import task_group
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
    return True
