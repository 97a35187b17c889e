"""Each worker freezes its start-up heap when the server starts it (ASGI lifespan startup), so
the garbage collector stops walking modules, mappers and templates at every full collection, and
collects its young generation less often (a search allocates tens of thousands of objects)."""

from __future__ import annotations

import gc

from app.runtime.asgi import YOUNG_COLLECTION_THRESHOLD, ASGIAdapter


async def test_lifespan_startup_freezes_what_start_up_created(make_app):
    adapter = ASGIAdapter(make_app())
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        await adapter({"type": "lifespan"}, receive, send)
        frozen = gc.get_freeze_count()
        young, *older = gc.get_threshold()
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert frozen > 10_000  # the app, its libraries and their objects
    # and the young generation is collected every 10,000 allocations, not every 700
    assert young == YOUNG_COLLECTION_THRESHOLD == 10_000
    assert older == list(thresholds[1:])
