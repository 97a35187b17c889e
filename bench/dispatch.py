"""Section 1: how async views are executed. The same trivial JSON view, one Hypercorn worker:

* a plain Flask sync view (Hypercorn's WSGI mode, thread pool),
* a plain Flask ``async def`` view (Flask's default: asgiref, a new event loop per call),
* Vitrine's bridge (ASGI; the view awaited on the worker's loop),
* a bare ASGI app (the ceiling).

Also: 100 concurrent requests to a view that awaits 0.2 s, on one Vitrine worker.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from .runner import BENCH_CONFIG, Measured, Variant, measure, print_table
from .servers import start_server

VARIANTS = [
    Variant("flask sync view (WSGI, thread pool)", "bench.apps:flask_sync()"),
    Variant("flask async view, default (asgiref)", "bench.apps:flask_async_default()"),
    Variant("vitrine async view (ASGI + greenlet bridge)", "bench.apps:vitrine_bridge()"),
    Variant("bare ASGI app (ceiling)", "bench.apps:bare_asgi()"),
]


def run(*, rounds: int, seconds: int, connections: int, log_dir: Path) -> list[Measured]:
    measured = measure(VARIANTS, rounds=rounds, seconds=seconds, connections=connections,
                       log_dir=log_dir)
    print_table(f"1. Async view dispatch ({connections} connections, 1 worker)", measured,
                baseline=VARIANTS[0].name)
    by_name = {m.variant.name: m.rps for m in measured}
    vitrine = by_name[VARIANTS[2].name]
    print(f"   vitrine / flask default async: {vitrine / by_name[VARIANTS[1].name]:.2f}x"
          f"   (target >= 2.5x)")
    print(f"   vitrine / flask sync:          {vitrine / by_name[VARIANTS[0].name]:.2f}x"
          f"   (target >= 1.3x)")
    return measured


def concurrency(log_dir: Path, n: int = 100) -> int:
    """Time ``n`` concurrent requests to a view awaiting 0.2 s on one worker; return errors.

    The client is a minimal HTTP/1.1 one on ``n`` kept-alive sockets: httpx's pool queues
    requests on its already-open connections, which would measure the client, not the server.
    """
    server = start_server("bench.apps:vitrine_bridge()", log_dir, config=BENCH_CONFIG)
    port = int(server.url.rsplit(":", 1)[1])

    async def request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"GET /sleep HTTP/1.1\r\nHost: bench\r\n\r\n")
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await reader.readexactly(length)
        return head.startswith(b"HTTP/1.1 200")

    async def burst() -> tuple[float, int]:
        sockets = [await asyncio.open_connection("127.0.0.1", port) for _ in range(n)]
        try:
            await asyncio.gather(*(request(r, w) for r, w in sockets))  # warm-up round
            started = time.perf_counter()
            oks = await asyncio.gather(*(request(r, w) for r, w in sockets))
            return time.perf_counter() - started, oks.count(False)
        finally:
            for _, writer in sockets:
                writer.close()

    try:
        elapsed, errors = asyncio.run(burst())
    finally:
        server.stop()
    print(f"\n   {n} concurrent requests to a view awaiting 0.2 s, one worker: {elapsed:.2f} s"
          f" ({errors} errors)")
    return errors
