"""Section 6: event streams (the live feed, ``app/live``) - idle streams per worker, fan-out
latency, and what idle streams cost the search partial.

* **Idle streams held by one worker**: N shopper streams (``/live/catalog``) opened on one
  Hypercorn worker by one asyncio client of our own (raw sockets, HTTP/1.0 so the body needs no
  chunk parsing); the worker's RSS before and after. The same N streams against Flask's default
  dispatch (``app.run(threaded=True)``: Werkzeug's server, one thread per connection) serving a
  stream of the same shape (a heartbeat comment every 15 s from a per-stream queue): its RSS
  and thread count.
* **Fan-out**: M streams open on one worker; a price change is committed (psql, timed from just
  before the ``UPDATE``); the delay until each stream has received it, p50 and p99 over a few
  edits (spaced beyond the one-update-per-second coalescing).
* **Search with idle streams**: wrk on the search partial's query mix (response cache off)
  without, then with K idle streams on the same worker; the ratio, measured side by side in
  the same run.

The bench raises its own file-descriptor limit (the servers it starts inherit it), never the
app's. Sizes: ``BENCH_IDLE_STREAMS`` (10000), ``BENCH_FLASK_STREAMS`` (same as idle),
``BENCH_FANOUT_STREAMS`` (1000), ``BENCH_SEARCH_STREAMS`` (5000); set them small for a smoke
run. Uses the app's database (``DATABASE_URL`` or the embedded dev database).
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg

from .runner import database_dsn
from .search_floor import LUA, paths
from .servers import ROOT, Server, free_port, start_server
from .wrk import run_wrk

ENV = {"VITRINE_LOG_LEVEL": "WARNING", "VITRINE_CONFIG": "development",
       "VITRINE_RATELIMIT_ENABLED": "0", "VITRINE_RESPONSE_CACHE": "0"}
#: Connections opened at once while filling up (the server's listen backlog is ~100).
OPENING = 64


def sizes() -> dict[str, int]:
    idle = int(os.environ.get("BENCH_IDLE_STREAMS", "10000"))
    return {"idle": idle, "flask": int(os.environ.get("BENCH_FLASK_STREAMS", str(idle))),
            "fanout": int(os.environ.get("BENCH_FANOUT_STREAMS", "1000")),
            "search": int(os.environ.get("BENCH_SEARCH_STREAMS", "5000"))}


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft ``RLIMIT_NOFILE`` (children inherit it); returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft


class Streams:
    """Many open event streams from this one process."""

    def __init__(self, url: str, path: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port, self.path = host, int(port), path
        self.open: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.failed = 0

    async def _one(self) -> None:
        for _attempt in range(3):
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.write(f"GET {self.path} HTTP/1.0\r\nHost: bench\r\n"
                             "Accept: text/event-stream\r\n\r\n".encode())
                status = await reader.readline()
                if b" 200 " not in status:
                    writer.close()
                    self.failed += 1
                    return
                await reader.readuntil(b"\r\n\r\n")
                self.open.append((reader, writer))
                return
            except (OSError, asyncio.IncompleteReadError):
                await asyncio.sleep(0.2)
        self.failed += 1

    async def fill(self, count: int) -> None:
        gate = asyncio.Semaphore(OPENING)

        async def one() -> None:
            async with gate:
                await self._one()

        await asyncio.gather(*(one() for _ in range(count)))

    async def close(self) -> None:
        for _reader, writer in self.open:
            writer.close()
        self.open.clear()
        await asyncio.sleep(0.5)


def worker_rss(server_pid: int) -> int:
    """RSS in bytes of the server's worker processes: not its supervising parent, nor the
    ``multiprocessing`` resource tracker it starts beside them (~12 MB that holds no stream)."""
    workers = [child for child in psutil.Process(server_pid).children(recursive=True)
               if not _is_resource_tracker(child)]
    return sum(child.memory_info().rss for child in workers) or (
        psutil.Process(server_pid).memory_info().rss)


def _is_resource_tracker(process: psutil.Process) -> bool:
    try:
        return any("resource_tracker" in part for part in process.cmdline())
    except psutil.Error:  # gone meanwhile
        return False


def product_id() -> int:
    with psycopg.connect(database_dsn(), autocommit=True) as connection:
        row = connection.execute("SELECT min(id) FROM products WHERE is_active").fetchone()
    if row is None or row[0] is None:
        raise SystemExit("streams bench: the database has no active product (make seed)")
    return int(row[0])


def idle(count: int, flask_count: int, log_dir: Path, product: int) -> int:
    server = start_server("app:create_app()", log_dir, workers=1,
                          env={**ENV, "VITRINE_MAX_STREAMS": str(count + 100)})
    try:
        before = worker_rss(server.pid)

        async def hold() -> tuple[int, int, int]:
            streams = Streams(server.url, f"/live/catalog?ids={product}")
            await streams.fill(count)
            await asyncio.sleep(2)
            held = len(streams.open), worker_rss(server.pid), streams.failed
            await streams.close()
            return held

        held, after, failed = asyncio.run(hold())
    finally:
        server.stop()
    print(f"   vitrine, 1 worker:  {held:>6} idle streams held ({failed} refused/failed);"
          f" worker RSS {before / 2**20:.0f} MB -> {after / 2**20:.0f} MB"
          f" ({(after - before) / max(held, 1) / 1024:.1f} KB per stream; target < 300 MB)")
    flask_failed = flask_threads(flask_count, log_dir)
    return failed + flask_failed


def flask_threads(count: int, log_dir: Path) -> int:
    """The same idle streams against Flask's default threaded dispatch."""
    port = free_port()
    log_path = log_dir / f"flask-threaded-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from bench.apps import flask_stream;"
             f" flask_stream().run(host='127.0.0.1', port={port}, threaded=True)"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log,
            stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        before = psutil.Process(process.pid).memory_info().rss

        async def hold() -> tuple[int, int, int, int]:
            streams = Streams(server.url, "/stream")
            await streams.fill(count)
            await asyncio.sleep(2)
            proc = psutil.Process(process.pid)
            held = len(streams.open), proc.memory_info().rss, proc.num_threads(), streams.failed
            await streams.close()
            return held

        held, after, threads, failed = asyncio.run(hold())
    finally:
        server.stop()
    print(f"   Flask threaded:     {held:>6} idle streams held ({failed} refused/failed);"
          f" RSS {before / 2**20:.0f} MB -> {after / 2**20:.0f} MB, {threads} threads")
    return failed


async def _receive_times(streams: Streams, marker: bytes) -> list[float]:
    async def one(reader: asyncio.StreamReader) -> float:
        while True:
            message = await reader.readuntil(b"\n\n")
            if marker in message:
                return time.perf_counter()

    return await asyncio.gather(*(one(reader) for reader, _writer in streams.open))


def fanout(count: int, log_dir: Path, product: int, edits: int = 5) -> int:
    server = start_server("app:create_app()", log_dir, workers=1,
                          env={**ENV, "VITRINE_MAX_STREAMS": str(count + 100)})
    delays: list[float] = []
    try:
        async def measure() -> int:
            streams = Streams(server.url, f"/live/catalog?ids={product}")
            await streams.fill(count)
            with psycopg.connect(database_dsn(), autocommit=True) as connection:
                price = connection.execute("SELECT price FROM products WHERE id = %s",
                                           (product,)).fetchone()[0]
                for edit in range(edits):
                    await asyncio.sleep(1.2)  # beyond the coalescing interval
                    new = price + edit + 1
                    marker = f"{new:,.2f}".encode()
                    receiving = asyncio.ensure_future(_receive_times(streams, marker))
                    await asyncio.sleep(0.05)
                    started = time.perf_counter()
                    await asyncio.to_thread(connection.execute,
                                            "UPDATE products SET price = %s WHERE id = %s",
                                            (new, product))
                    async with asyncio.timeout(30):
                        received = await receiving
                    delays.extend(at - started for at in received)
                connection.execute("UPDATE products SET price = %s WHERE id = %s",
                                   (price, product))
            failed = streams.failed
            await streams.close()
            return failed

        failed = asyncio.run(measure())
    finally:
        server.stop()
    quantiles = statistics.quantiles(delays, n=100) if len(delays) > 1 else delays * 99
    print(f"   fan-out to {count} streams, {edits} edits: p50 {quantiles[49] * 1000:.0f} ms,"
          f" p99 {quantiles[98] * 1000:.0f} ms (target p99 < 250 ms)")
    return failed


def search_with_streams(count: int, log_dir: Path, seconds: int, connections: int,
                        rounds: int, product: int) -> int:
    mix_file = Path(tempfile.mkstemp(prefix="search-mix-", suffix=".txt", dir=log_dir)[1])
    mix_file.write_text("\n".join(paths()) + "\n")
    server = start_server("app:create_app()", log_dir, workers=1,
                          env={**ENV, "VITRINE_MAX_STREAMS": str(count + 100)})
    without: list[float] = []
    with_streams: list[float] = []
    errors = 0
    try:
        def search() -> float:
            nonlocal errors
            result = run_wrk(server.url + "/products", connections=connections,
                             seconds=seconds, headers={"HX-Request": "true"}, script=LUA,
                             script_args=[str(mix_file)])
            errors += result.errors
            return result.requests_per_second

        async def rounds_of() -> int:
            streams = Streams(server.url, f"/live/catalog?ids={product}")
            for _ in range(rounds):
                without.append(await asyncio.to_thread(search))
                await streams.fill(count)
                with_streams.append(await asyncio.to_thread(search))
                await streams.close()
            return streams.failed

        errors += asyncio.run(rounds_of())
    finally:
        server.stop()
    base, loaded = statistics.median(without), statistics.median(with_streams)
    print(f"   search partial: {base:.0f} req/s without streams, {loaded:.0f} with {count}"
          f" idle streams: {loaded / base:.2f}x (target >= 0.9x; medians of {rounds})")
    return errors


def run(*, rounds: int, seconds: int, connections: int, log_dir: Path) -> int:
    """The section; returns how many requests or connections failed."""
    size = sizes()
    limit = raise_fd_limit(2 * max(size.values()) + 1024)
    product = product_id()
    print(f"\n6. Event streams (one process of asyncio clients; fd limit {limit})")
    errors = idle(size["idle"], size["flask"], log_dir, product)
    errors += fanout(size["fanout"], log_dir, product)
    errors += search_with_streams(size["search"], log_dir, seconds, connections, rounds,
                                  product)
    return errors
