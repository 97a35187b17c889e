"""Responses are compressed as the client accepts: brotli, else gzip, else as they are; caches
are told (``Vary: Accept-Encoding``). Served through the ASGI entry point, where compression
happens (Flask's test client bypasses it)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import httpx
import pytest

from app.runtime.compression import choose_encoding, compressible

ROOT = Path(__file__).resolve().parents[2]


def raw_client(application) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                             base_url="http://test")


async def raw_get(application, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (not decoded)."""
    async with raw_client(application) as client, client.stream(
            "GET", path, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    await application.extensions["vitrine_db"].dispose_current()
    return response, body


@pytest.fixture
def catalog(sql) -> None:
    category = sql.category("Lighting")
    for number in range(30):
        sql.product(f"Brass Lamp {number}", category_id=category,
                    description="A lamp of brushed brass with a linen shade. " * 3)


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "htmx"])
async def test_brotli_gzip_or_identity_as_accepted(app, catalog, headers):
    plain, plain_body = await raw_get(app, "/products?q=lamp", **headers,
                                      **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert {"Accept-Encoding", "HX-Request"} <= set(re.split(r",\s*", plain.headers["vary"]))

    br, br_body = await raw_get(app, "/products?q=lamp", **headers,
                                **{"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["content-encoding"] == "br"
    assert brotli.decompress(br_body) == plain_body
    assert int(br.headers["content-length"]) == len(br_body) < len(plain_body) / 3
    assert "Accept-Encoding" in br.headers["vary"]

    gz, gz_body = await raw_get(app, "/products?q=lamp", **headers,
                                **{"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gzip.decompress(gz_body) == plain_body

    refused, _ = await raw_get(app, "/products?q=lamp", **headers,
                               **{"Accept-Encoding": "br;q=0, gzip;q=0.5"})
    assert refused.headers["content-encoding"] == "gzip"


async def test_json_and_static_files_are_compressed_too(app, catalog):
    api, api_body = await raw_get(app, "/api/v1/products?per_page=30",
                                  **{"Accept-Encoding": "br"})
    assert api.headers["content-type"].startswith("application/json")
    assert api.headers["content-encoding"] == "br" and brotli.decompress(api_body)
    script, script_body = await raw_get(app, "/static/vendor/htmx-4.0.1/htmx.min.js",
                                        **{"Accept-Encoding": "br"})
    assert script.status_code == 200 and script.headers["content-encoding"] == "br"
    original = (ROOT / "static/vendor/htmx-4.0.1/htmx.min.js").read_bytes()  # noqa: ASYNC240
    assert brotli.decompress(script_body) == original
    assert script.headers.get("etag", "W/").startswith("W/")  # same meaning, other bytes


async def test_small_bodies_and_304s_are_left_alone(app, catalog):
    health, _ = await raw_get(app, "/healthz", **{"Accept-Encoding": "br"})
    assert "content-encoding" not in health.headers
    page, _ = await raw_get(app, "/products?q=lamp", **{"Accept-Encoding": "br"})
    again, body = await raw_get(app, "/products?q=lamp", **{"Accept-Encoding": "br",
                                                            "If-None-Match": page.headers["etag"]})
    assert again.status_code == 304 and body == b"" and "content-encoding" not in again.headers


async def test_compression_can_be_turned_off(make_app, catalog):
    application = make_app(COMPRESSION=False)
    response, _ = await raw_get(application, "/products?q=lamp", **{"Accept-Encoding": "br"})
    assert response.status_code == 200 and "content-encoding" not in response.headers


@pytest.mark.parametrize(("header", "expected"), [
    (b"", None), (b"identity", None), (b"gzip", "gzip"), (b"br", "br"),
    (b"gzip, br", "br"), (b"*", "br"), (b"br;q=0, *", "gzip"), (b"*;q=0", None),
    (b"gzip;q=bogus, br;q=0", None),
])
def test_the_encoding_follows_accept_encoding(header, expected):
    assert choose_encoding(header) == expected


@pytest.mark.parametrize(("headers", "status", "expected"), [
    ([(b"content-type", b"text/html; charset=utf-8")], 200, True),
    ([(b"content-type", b"text/event-stream")], 200, False),
    ([(b"content-type", b"text/html"), (b"content-encoding", b"gzip")], 200, False),
    ([(b"content-type", b"text/html"), (b"cache-control", b"no-transform")], 200, False),
    ([(b"content-type", b"image/png")], 200, False),
    ([(b"content-type", b"text/html")], 304, False),
])
def test_what_is_never_compressed(headers, status, expected):
    assert compressible(headers, status) is expected


async def test_a_page_the_cache_serves_again_is_compressed_once(app, catalog):
    memo = app.asgi.compression_memo
    first, first_body = await raw_get(app, "/products?q=brass", **{"Accept-Encoding": "br"})
    held = memo.bytes
    second, second_body = await raw_get(app, "/products?q=brass", **{"Accept-Encoding": "br"})
    assert second.headers["etag"] == first.headers["etag"]
    assert second_body == first_body and brotli.decompress(second_body)
    assert memo.bytes == held > 0  # the second answer came from the memo
