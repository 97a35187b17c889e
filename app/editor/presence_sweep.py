"""Ending presences whose heartbeat stopped (a closed laptop, a lost connection, a crashed
browser): one small task per worker's event loop.

Every ``PRESENCE_TIMEOUT / 3`` seconds (at most 10) it ends the expired presences in one
``UPDATE ... RETURNING`` and announces each end through the change feed in the same
transaction (:func:`sweep_once`), so colleagues' badges go away without anyone reloading. Any
number of workers may sweep at once: each expired row is ended by exactly one of them.

The task is started by the first editor request a worker serves that involves presence (the
table, a history page, a heartbeat: :func:`ensure_running`), so a worker that never serves an
editor never sweeps, and one that does sweeps for as long as it lives. It runs in an empty
context (not the request's), holds a database connection only while it sweeps, and is
cancelled by the app's shutdown hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import weakref

from flask import Flask, current_app

from ..data import presence as store
from .live_feed import publish_presence

log = logging.getLogger(__name__)

_tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
    weakref.WeakKeyDictionary())
_APPS_WITH_HOOK: weakref.WeakSet[Flask] = weakref.WeakSet()


def interval(app: Flask) -> float:
    """Seconds between two sweeps: a third of the timeout, at most 10."""
    return max(0.5, min(float(app.config["PRESENCE_TIMEOUT"]) / 3, 10.0))


async def sweep_once(app: Flask) -> list[tuple[int, int]]:
    """End the expired presences and announce each end; the (product, editor) pairs ended."""
    database = app.extensions["vitrine_db"]
    async with database.session() as session:
        ended = await store.sweep(session)
        for product_id, user_id in ended:
            await publish_presence(session, product_id, editing=False, user_id=user_id)
        await session.commit()
    return ended


async def _sweep_forever(app: Flask) -> None:
    while True:
        await asyncio.sleep(interval(app))
        try:
            await sweep_once(app)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database restart: try again next time
            log.warning("presence sweep failed", exc_info=True)


def ensure_running() -> None:
    """Start this loop's sweep task unless it runs (called from editor views)."""
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is not None and not task.done():
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # An empty context: the task outlives the request that started it.
    _tasks[loop] = loop.create_task(_sweep_forever(app), context=contextvars.Context())
    if app not in _APPS_WITH_HOOK and hasattr(app, "on_shutdown"):
        _APPS_WITH_HOOK.add(app)
        app.on_shutdown(_stop)


async def _stop() -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = _tasks.pop(loop, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # stopping: nothing to say
            await task
