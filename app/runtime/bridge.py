"""Await coroutines from synchronous Flask code that runs inside a greenlet on an event loop.

SQLAlchemy's asyncio layer is built on the same two primitives: ``greenlet_spawn`` runs a sync
function in a greenlet driven by a coroutine, and ``await_`` suspends that greenlet while its
driver awaits a coroutine on the loop. The greenlet shares the driving task's ``contextvars``
context, so the request context Flask pushes inside the greenlet is visible to the awaited view.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.util.concurrency import await_, greenlet_spawn, in_greenlet

T = TypeVar("T")

__all__ = ["MissingEventLoopBridge", "await_in_greenlet", "greenlet_spawn", "in_greenlet"]


class MissingEventLoopBridge(RuntimeError):
    """An async view was called from plain synchronous code, outside any bridge greenlet."""


def await_in_greenlet(awaitable: Awaitable[T]) -> T:
    """Block the current bridge greenlet until ``awaitable`` completes on the driving loop.

    Exceptions (including cancellation by a timeout or a client disconnect) propagate into the
    calling synchronous code with their tracebacks.
    """
    if not in_greenlet():
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()
        raise MissingEventLoopBridge(
            "async code was called outside the Vitrine event-loop bridge; serve the app through "
            "its ASGI entry point, its test client, or app.runtime.loop_thread"
        )
    return await_(awaitable)


def make_sync(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Wrap an ``async def`` so Flask can call it synchronously from inside the bridge."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> T:
        return await_in_greenlet(func(*args, **kwargs))

    return run
