"""One hub and one listener per worker, started with the worker and stopped with it.

:func:`init_live` puts a :class:`LiveService` in ``app.extensions``; it keeps a hub and its
listener per event loop (a worker has one loop; the test client's loop thread is another).
The worker's lifespan startup starts them (:meth:`LiveService.start`); any first use on a loop
does too (the CLI, tests). They stop with the loop's shutdown hooks.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, current_app

from ..data.urls import libpq_dsn
from .hub import Hub
from .listener import Listener
from .retention import Retention

__all__ = ["KEY", "LiveService", "current_hub", "init_live", "live_service"]

KEY = "vitrine_live"
T = TypeVar("T")


@dataclass
class _Worker:
    hub: Hub
    listener: Listener
    channels: dict[str, Any] = field(default_factory=dict)


class LiveService:
    """The live feed of one app (see the module docstring)."""

    def __init__(self, dsn: str, *, queue_size: int, retention: float, heartbeat: float,
                 application_name: str) -> None:
        self.dsn = dsn
        self.queue_size = queue_size
        self.retention = retention
        self.heartbeat = heartbeat
        self.application_name = application_name
        self._workers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Worker] = (
            weakref.WeakKeyDictionary())

    def _worker(self) -> _Worker:
        loop = asyncio.get_running_loop()
        worker = self._workers.get(loop)
        if worker is None:
            hub = Hub(self.queue_size)
            listener = Listener(self.dsn, hub, Retention(self.retention),
                                application_name=self.application_name)
            worker = self._workers[loop] = _Worker(hub, listener)
            listener.start()
        return worker

    def hub(self) -> Hub:
        """The running loop's hub (its listener started on first use)."""
        return self._worker().hub

    def listener(self) -> Listener:
        return self._worker().listener

    def channel(self, name: str, factory: Callable[[Hub], T]) -> T:
        """The running loop's consumer ``name`` of the hub (e.g. the shopper updates), made by
        ``factory(hub)`` on first use; stopped with the hub (its ``stop()`` coroutine)."""
        worker = self._worker()
        made = worker.channels.get(name)
        if made is None:
            made = worker.channels[name] = factory(worker.hub)
        return made

    async def start(self) -> None:
        """Start the loop's listener and wait (briefly) until it knows the outbox position."""
        hub = self.hub()
        try:
            async with asyncio.timeout(5):
                await hub.ready.wait()
        except TimeoutError:  # the database is down: the listener keeps trying
            pass

    async def stop(self) -> None:
        worker = self._workers.pop(asyncio.get_running_loop(), None)
        if worker is not None:
            for channel in worker.channels.values():
                stop = getattr(channel, "stop", None)
                if stop is not None:
                    await stop()
            worker.hub.close_all()
            await worker.listener.stop()


def init_live(app: Flask) -> LiveService:
    config = app.config
    service = LiveService(
        libpq_dsn(config["DATABASE_URL"]),
        queue_size=int(config.get("LIVE_QUEUE", 256)),
        retention=float(config.get("LIVE_RETENTION", 600)),
        heartbeat=float(config.get("LIVE_HEARTBEAT", 15.0)),
        application_name=str(config.get("DB_APPLICATION_NAME", "vitrine")) + "-live",
    )
    app.extensions[KEY] = service
    on_startup = getattr(app, "on_startup", None)
    if on_startup is not None:
        on_startup(service.start)
    on_shutdown = getattr(app, "on_shutdown", None)
    if on_shutdown is not None:
        on_shutdown(service.stop)
    return service


def live_service() -> LiveService:
    service: LiveService = current_app.extensions[KEY]
    return service


def current_hub() -> Hub:
    """The hub of the current app on the running loop."""
    return live_service().hub()
