"""SIGTERM with clients sending continuously on keep-alive connections: no request the server
read is run and left unanswered, and each connection the server ends after a response says so
(``Connection: close``), so a client never sends its next request into a closing connection.

Each client is a raw socket sending one request after another, each with its own
``X-Request-ID``. The app logs every request it handles with that id; a request the client got
no answer for must not appear there as run. The app also logs when the worker began shutting
down, and each answer says when its request's wait ended: a connection closed without a warning
must have had its last answer made before that instant (it was idle then)."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from .conftest import log_records

pytestmark = pytest.mark.live

CLIENTS = 6
#: Each request awaits this long: most connections are mid-request at the signal, and some may
#: be between a response and their next request (more of them on a loaded machine).
REQUEST_SECONDS = 0.2


@dataclass
class Connection:
    answered: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    #: How the connection ended: "close-header" (the server said so), "closed" (closed with no
    #: warning after an answered request: the next request got no bytes back), "error".
    ended: str = "open"
    after_signal: int = 0  # responses received after SIGTERM
    last_made: float = 0.0  # when the last answered request's wait ended, in the server


def _read_response(sock: socket.socket, buffer: bytearray) -> dict[str, str] | None:
    """One response's headers (lower-cased) and its body (``body``); None on EOF before any."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            if buffer:
                raise AssertionError(f"truncated response: {bytes(buffer)[:200]!r}")
            return None
        buffer.extend(data)
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {"status": lines[0]}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = bytearray(rest)
    while len(body) < length:
        data = sock.recv(65536)
        if not data:
            raise AssertionError("truncated body")
        body.extend(data)
    buffer[:] = body[length:]
    headers["body"] = bytes(body[:length]).decode()
    return headers


def _client(url: str, index: int, result: Connection, signalled: threading.Event) -> None:
    host, port = url.removeprefix("http://").split(":")
    buffer = bytearray()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        for number in range(100_000):
            request_id = f"ka{index}-{number}"
            try:
                sock.sendall(f"GET /_probe/sleep?seconds={REQUEST_SECONDS} HTTP/1.1\r\nHost: x\r\n"
                             f"X-Request-ID: {request_id}\r\n\r\n".encode())
                headers = _read_response(sock, buffer)
            except ConnectionError:
                headers = None
            if headers is None:
                result.unanswered.append(request_id)
                result.ended = "closed"
                return
            result.answered.append(request_id)
            result.last_made = json.loads(headers["body"])["ended"]
            if signalled.is_set():
                result.after_signal += 1
            if "close" in headers.get("connection", "").lower():
                result.ended = "close-header"
                return
    result.ended = "error"


def test_sigterm_answers_every_request_it_reads_on_keep_alive_connections(serve):
    server = serve({"VITRINE_REQUEST_QUEUE_TIMEOUT": "10"})
    signalled = threading.Event()
    results = [Connection() for _ in range(CLIENTS)]
    threads = [threading.Thread(target=_client, args=(server.url, i, results[i], signalled))
               for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(1.0 + 2 * REQUEST_SECONDS)
    server.process.send_signal(signal.SIGTERM)
    signalled.set()
    for thread in threads:
        thread.join(60)
    assert server.process.wait(30) == 0

    run = {r["request_id"]: r for r in log_records(server)
           if r.get("message") == "request"
           and r.get("outcome") not in {"connection_closed", "client_disconnected"}}
    unanswered = [rid for c in results for rid in c.unanswered]
    assert all(c.answered for c in results), "every client got answers before the signal"
    # No request the server read and ran was left without its response.
    assert [rid for rid in unanswered if rid in run] == []
    # Every request the clients got an answer for was run (the log is complete).
    assert all(rid in run for c in results for rid in c.answered)
    # The requests in flight when the worker began shutting down were answered, and their
    # connections then ended with a Connection: close on that last response. A connection
    # that was idle at that instant (its last answer made before it) may instead be closed
    # before its next request is read.
    [began] = [_epoch(r["ts"]) for r in log_records(server) if r.get("message") == "shutting down"]
    assert all(c.ended in {"close-header", "closed"} for c in results), [c.ended for c in results]
    unwarned = [(c.last_made, c.answered[-1]) for c in results if c.ended == "closed"]
    # ``ts`` is rounded down to the millisecond: an answer made before it is before ``began``.
    assert [made for made in unwarned if made[0] >= began + 0.001] == [], began
    assert any(c.ended == "close-header" for c in results), "no request was in flight"


def _epoch(ts: str) -> float:
    """A log record's ``ts`` (UTC, milliseconds) as ``time.time()`` counts."""
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
