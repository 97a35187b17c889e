"""How Vitrine runs Flask on asyncio.

Flask's default way to run an ``async def`` view is ``asgiref.async_to_sync``: a new event loop
in a new thread for every call. Database pools cannot live across such loops, and the thread
pool caps concurrency. Vitrine instead serves Flask as an ASGI application (:mod:`.asgi`): each
request's synchronous WSGI handling runs in a greenlet on the server's own event loop, and every
async view, hook and error handler is awaited directly on that loop (:mod:`.bridge`). One loop per
worker process therefore owns the worker's connection pool.

Callers without a running loop (Flask's test client, the CLI) go through :mod:`.loop_thread`, a
single long-lived loop thread that runs the very same greenlet bridge.
"""

from .flask_app import VitrineFlask

__all__ = ["VitrineFlask"]
