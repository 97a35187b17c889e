"""Streamed responses (a generator body) go out as they are produced: with backpressure, at
flat worker memory, past the request timeout while they make progress, and stopped - generator
closed, query cancelled, connection returned - when the client goes away or a chunk stalls."""

from __future__ import annotations

import gzip
import json
import socket
import time
from urllib.parse import urlsplit

import brotli
import httpx
import pytest

from tests.support.live import start_server

PROBE = "tests.support.probe_app:create_probe_app()"
CHUNK = 64 * 1024


@pytest.fixture
def probe_server(database_url, tmp_path):
    server = start_server(database_url, tmp_path, app=PROBE, workers=1,
                          env={"PROBE_REQUEST_TIMEOUT": "2", "VITRINE_LOG_LEVEL": "INFO"})
    yield server
    server.stop()


def state(server) -> dict:
    return httpx.get(server.url + "/_probe/stream-state").json()


def rss_kb(server) -> int:
    return int(httpx.get(server.url + "/_probe/rss").json()["kb"])


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.live
def test_a_large_body_streams_with_backpressure_at_flat_memory(probe_server):
    chunks = 3000  # 3000 x 64 KB = 192 MB, three times what the worker holds at start
    before = rss_kb(probe_server)
    received = 0
    with httpx.stream("GET", probe_server.url + "/_probe/stream",
                      params={"chunks": chunks, "size": CHUNK}, timeout=30) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        parts = response.iter_raw(CHUNK)
        # Read 1 MB, then pause three times (3 s in all, longer than the 2 s request timeout;
        # each chunk is still taken within it), reading 8 MB after each pause.
        for _ in range(16):
            received += len(next(parts))
        for _ in range(3):
            time.sleep(1)
            # The generator is held back by the unread socket: it has produced what the
            # kernel's buffers hold beyond what was read, not the whole body.
            assert state(probe_server)["produced"] * CHUNK < received + 32 * 1024 * 1024
            for _ in range(128):
                received += len(next(parts))
        middle = rss_kb(probe_server)
        for part in parts:
            received += len(part)
    after = rss_kb(probe_server)
    assert received == chunks * CHUNK  # complete, although it outlived the request timeout
    assert state(probe_server) == {"produced": chunks, "closed": True, "finished": True}
    # Flat: the worker never held more than a few chunks of the 192 MB body.
    assert max(middle, after) - before < 24 * 1024, (before, middle, after)


@pytest.mark.live
def test_a_client_that_goes_away_mid_stream_stops_the_generator_and_its_query(
        probe_server, sql):
    host = urlsplit(probe_server.url)
    with socket.create_connection((host.hostname, host.port)) as conn:
        conn.sendall(b"GET /_probe/stream?chunks=50&size=1024&sleep_at=5&sleep=30 HTTP/1.1\r\n"
                     b"Host: x\r\n\r\n")
        head = conn.recv(65536)
        assert head.startswith(b"HTTP/1.1 200")
        wait_for(lambda: _pg_sleeps(sql) == 1)
        assert _pg_sleeps(sql) == 1, "the generator should be in its slow query"
    wait_for(lambda: state(probe_server)["closed"] and not _pg_sleeps(sql))
    assert state(probe_server) == {"produced": 5, "closed": True, "finished": False}
    assert _pg_sleeps(sql) == 0  # its query was cancelled in PostgreSQL
    assert _idle_in_transaction(sql) == 0
    pool = httpx.get(probe_server.url + "/_probe/pool").json()
    assert pool["checked_out"] == 0  # and its connection went back to the pool
    assert "stream_client_disconnected" in _outcomes(probe_server)


@pytest.mark.live
def test_a_client_that_stops_reading_is_cut_after_the_request_timeout(probe_server):
    with httpx.stream("GET", probe_server.url + "/_probe/stream",
                      params={"chunks": 5000, "size": CHUNK}, timeout=30) as response:
        parts = response.iter_raw(CHUNK)
        next(parts)
        wait_for(lambda: state(probe_server)["closed"], seconds=10)  # never reads again
        with pytest.raises(httpx.RemoteProtocolError):  # truncated, not a complete body
            for _ in parts:
                pass
    assert state(probe_server)["finished"] is False
    assert "stream_timeout" in _outcomes(probe_server)


@pytest.mark.live
def test_a_stalled_chunk_cuts_the_stream_and_cancels_its_query(probe_server, sql):
    with httpx.stream("GET", probe_server.url + "/_probe/stream",
                      params={"chunks": 10, "sleep_at": 3, "sleep": 30}, timeout=30) as response:
        assert response.status_code == 200  # the first chunks went out
        with pytest.raises(httpx.RemoteProtocolError):
            for _ in response.iter_raw():
                pass
    wait_for(lambda: _pg_sleeps(sql) == 0)
    assert _pg_sleeps(sql) == 0
    assert state(probe_server) == {"produced": 3, "closed": True, "finished": False}
    assert "stream_timeout" in _outcomes(probe_server)


# -- in process, through the ASGI entry point ---------------------------------------------------

async def raw_get(application, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client, \
            client.stream("GET", path, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    await application.extensions["vitrine_db"].dispose_current()
    return response, body


@pytest.fixture
def probe_app():
    from tests.support.probe_app import create_probe_app

    application = create_probe_app()
    yield application
    application.close()


async def test_a_streamed_text_body_is_compressed_incrementally(probe_app):
    path = "/_probe/stream?chunks=20&size=2000&type=text/plain"
    expected = b"".join(str(n % 10).encode() * 2000 for n in range(20))
    plain, plain_body = await raw_get(probe_app, path, **{"Accept-Encoding": "identity"})
    assert plain_body == expected
    assert "content-encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["vary"]
    br, br_body = await raw_get(probe_app, path, **{"Accept-Encoding": "br, gzip"})
    assert br.headers["content-encoding"] == "br"
    assert "content-length" not in br.headers
    assert brotli.decompress(br_body) == expected and len(br_body) < len(expected) // 10
    gz, gz_body = await raw_get(probe_app, path, **{"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gzip.decompress(gz_body) == expected


async def test_a_stream_that_fails_before_its_first_chunk_gets_the_error_page(probe_app):
    response, body = await raw_get(probe_app, "/_probe/stream-fails?after=0")
    assert response.status_code == 500
    assert b"the stream broke" not in body


def test_the_test_client_receives_a_streamed_body_whole(probe_app):
    response = probe_app.test_client().get("/_probe/stream?chunks=4&size=3")
    assert response.status_code == 200
    assert response.data == b"000111222333"


def _outcomes(server) -> list[str]:
    return [json.loads(line).get("outcome") for line in server.log().splitlines()
            if line.startswith("{")]


def _pg_sleeps(sql) -> int:
    return sql.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vitrine'"
        " AND datname = current_database()"
        " AND state = 'active' AND query LIKE 'SELECT pg_sleep%%'")


def _idle_in_transaction(sql) -> int:
    return sql.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vitrine'"
        " AND datname = current_database() AND state LIKE 'idle in transaction%%'")
