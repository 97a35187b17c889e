"""Request size limits over a real Hypercorn: the ASGI layer refuses an oversized body with 413
before the app reads it (JSON for the API, a page for a browser), and oversized headers are
refused by the server."""

from __future__ import annotations

import socket

import httpx
import pytest

pytestmark = pytest.mark.live


@pytest.fixture
def small_server(database_url, tmp_path):
    from tests.support.live import start_server

    server = start_server(database_url, tmp_path,
                          env={"VITRINE_MAX_CONTENT_LENGTH": str(16 * 1024)})
    yield server
    server.stop()


def test_oversized_bodies_get_413_in_the_clients_format(small_server):
    body = b"x" * (16 * 1024 + 1)  # fits the socket buffers: no reset while sending
    def post(path, headers):
        with httpx.Client(base_url=small_server.url, timeout=10) as http:  # one connection each
            return http.post(path, content=body, headers=headers)

    api = post("/api/v1/products", {"Content-Type": "application/json"})
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    page = post("/auth/login", form)
    fragment = post("/auth/login", form | {"HX-Request": "true"})
    assert api.status_code == 413 and api.json()["status"] == 413
    assert page.status_code == 413 and "<html" in page.text
    assert fragment.status_code == 413 and "<html" not in fragment.text
    assert fragment.headers["HX-Retarget"] == "#messages"
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_a_body_that_lies_about_its_length_is_refused_without_reading_it(small_server):
    """Content-Length over the limit: answered at once, the body is never waited for."""
    host, port = small_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/products HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{")
        reply = sock.recv(65536).decode("latin-1")
    assert reply.startswith("HTTP/1.1 413")


def test_chunked_upload_past_the_limit_is_refused(small_server):
    def chunks():
        for _ in range(200):
            yield b"y" * 1024

    with httpx.Client(base_url=small_server.url, timeout=10) as http:
        response = http.post("/api/v1/products", content=chunks(),
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_huge_headers_and_non_utf8_urls_are_client_errors(small_server):
    with httpx.Client(base_url=small_server.url, timeout=10) as http:
        big = http.get("/products", headers={"X-Filler": "a" * 70_000})
        assert 400 <= big.status_code < 500
        long_query = http.get("/api/v1/products?q=" + "lamp+" * 4000)
        assert 400 <= long_query.status_code < 500
    host, port = small_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /api/v1/products?q=%FF%FE\xff HTTP/1.1\r\nHost: x\r\n"
                     b"Connection: close\r\n\r\n")
        reply = sock.recv(65536).decode("latin-1")
    assert reply.startswith("HTTP/1.1 4"), reply[:200]
