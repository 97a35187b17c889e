"""Slow bodies over a real Hypercorn: connections that send most of a ~1 MB body and then
trickle a byte at a time are cut at the body deadline (408 or closed), and the worker's memory
comes back once they are gone; anonymous bodies past the worker's budget get 503 at once."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from .conftest import eventually

pytestmark = pytest.mark.live

DEADLINE = 3.0  # VITRINE_BODY_TIMEOUT for these servers
CONNECTIONS = 12
BODY = 1_000_000
HEAD = BODY - 64  # sent at once; the rest trickles


def _worker_pid(server) -> int:
    """The one worker process (the master's other child is multiprocessing's resource tracker)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    workers = [int(pid) for pid in children
               if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert len(workers) == 1, children
    return workers[0]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _request_head(length: int) -> bytes:
    return (f"POST /auth/login HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def _trickler(url: str, results: list, index: int) -> None:
    """Send most of a body, then one byte every 0.3 s until the server answers or closes."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    outcome = "open"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(_request_head(BODY) + b"e" * HEAD)
        sock.settimeout(0.3)
        for _ in range(200):
            try:
                reply = sock.recv(65536)
            except TimeoutError:
                try:
                    sock.send(b"e")
                except OSError:
                    outcome = "closed"
                    break
                continue
            except OSError:
                outcome = "closed"
                break
            outcome = reply[:12].decode("latin-1") if reply else "closed"
            break
    results[index] = (outcome, time.monotonic() - started)


def test_trickled_bodies_are_cut_at_the_deadline_and_memory_returns(serve):
    server = serve({"VITRINE_BODY_TIMEOUT": str(DEADLINE), "VITRINE_BODY_MIN_RATE": "0"})
    worker = _worker_pid(server)
    before = _rss_kib(worker)
    results: list = [None] * CONNECTIONS
    threads = [threading.Thread(target=_trickler, args=(server.url, results, i))
               for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    time.sleep(DEADLINE / 2)
    during = _rss_kib(worker)
    for thread in threads:
        thread.join(60)
    # The worker gives the memory back within a few seconds (it trims at most once a second).
    eventually(lambda: _rss_kib(worker) - before < 8 * 1024, 10)
    after = _rss_kib(worker)
    print(f"worker RSS KiB before={before} during={during} after={after}")
    for outcome, seconds in results:
        # Answered 408 (or closed) by the deadline, with generous slack for a busy machine.
        assert outcome in {"HTTP/1.1 408", "closed"}, outcome
        assert seconds < DEADLINE + 10
    # The bodies held during the trickle (~12 MB) are released: the worker is back near where
    # it started, not holding them.
    assert after - before < 8 * 1024, (before, during, after)


def test_anonymous_bodies_past_the_budget_get_503(serve):
    server = serve({"VITRINE_BODY_TIMEOUT": "10", "VITRINE_BODY_MIN_RATE": "0",
                    "VITRINE_UNAUTH_BODY_BUDGET": str(2 * 1024 * 1024)})
    host, port = server.url.removeprefix("http://").split(":")
    held = []
    try:
        for _ in range(2):  # two nearly complete 1 MB bodies: the budget is spent
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(_request_head(BODY) + b"e" * HEAD)
            held.append(sock)
        time.sleep(0.5)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(_request_head(BODY) + b"e" * HEAD)
            reply = sock.recv(65536).decode("latin-1")
        assert reply.startswith("HTTP/1.1 503"), reply[:200]
        assert "retry-after: 2" in reply.lower()
        # A signed-in client (it presents a session cookie) is not held back by anonymous ones.
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            small = b"email=a%40x.com&password=x"
            sock.sendall(_request_head(len(small)).replace(
                b"\r\n\r\n", b"\r\nCookie: session=x\r\n\r\n") + small)
            reply = sock.recv(65536).decode("latin-1")
        assert not reply.startswith("HTTP/1.1 503"), reply[:200]
    finally:
        for sock in held:
            sock.close()
