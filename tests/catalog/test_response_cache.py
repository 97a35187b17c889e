"""The shared response cache: shoppers get kept pages, never one older than the last commit.

"Served from the cache" is shown the way only a cache could: a product renamed *behind the
triggers' back* (``session_replication_role = replica`` turns triggers off for one connection,
so the catalog version does not change) still shows its old name; every real change - an
editor's save, a category renamed - shows on the very next request.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Blueprint, make_response, session

from app.web.response_cache import EXTENSION_KEY, CachedResponse, MemoryStore, cache_blueprint
from tests.support.clients import EditorClient, sign_in_client
from tests.support.editing import save_name
from tests.support.live import free_port
from tests.support.response_cache import cache_count, change_unseen

from .conftest import HX, names


def rename_unseen(database_url: str, product_id: int, name: str) -> None:
    """Rename a product without firing any trigger: the catalog version stays the same."""
    change_unseen(database_url, "UPDATE products SET name = %s WHERE id = %s", name, product_id)


@pytest.fixture
def lamp(sql) -> int:
    category = sql.category("Lighting")
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5,
                       attributes={"brand": "Halden", "colour": "black"})


@pytest.fixture
def editor(app, sql) -> EditorClient:
    sql.user("ed@example.com", role="editor")
    return sign_in_client(app, "ed@example.com")


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_second_request_is_served_from_the_cache(client, database_url, lamp, headers):
    first = client.get("/products?q=lamp", headers=headers)
    hits = cache_count("hit")
    rename_unseen(database_url, lamp, "Unseen Lamp")
    second = client.get("/products?q=lamp", headers=headers)
    assert second.status_code == 200
    assert second.data == first.data and names(second.data) == ["Brass Lamp"]
    assert cache_count("hit") == hits + 1
    # the same query in another order is the same page
    assert client.get("/products?q=lamp&sort=price").data == client.get(
        "/products?sort=price&q=lamp").data


def test_the_page_and_the_partial_are_kept_apart(client, lamp):
    page = client.get("/products")
    partial = client.get("/products", headers=HX)
    assert b"<html" in page.data and b"<html" not in partial.data
    assert client.get("/products").data == page.data
    assert client.get("/products", headers=HX).data == partial.data


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_an_editors_save_is_on_the_very_next_shopper_request(app, client, editor, sql, lamp,
                                                            headers):
    assert names(client.get("/products?q=lamp", headers=headers).data) == ["Brass Lamp"]
    assert names(client.get("/products?q=lamp", headers=headers).data) == ["Brass Lamp"]
    save_name(editor, sql, lamp, "Brass Desk Lamp")
    assert names(client.get("/products?q=lamp", headers=headers).data) == ["Brass Desk Lamp"]
    product = client.get("/products/brass-lamp", headers=headers)
    assert "Brass Desk Lamp" in product.get_data(as_text=True)


def test_a_category_change_is_on_the_next_request(client, sql, lamp):
    assert "Lighting" in client.get("/products/brass-lamp").get_data(as_text=True)
    sql.execute("UPDATE categories SET name = 'Lamps and Lights'")
    html = client.get("/products/brass-lamp").get_data(as_text=True)
    assert "Lamps and Lights" in html


def test_signed_in_requests_are_never_served_from_the_cache(client, editor, database_url,
                                                            lamp):
    assert names(editor.get("/products").data) == ["Brass Lamp"]
    assert names(client.get("/products").data) == ["Brass Lamp"]  # kept for shoppers
    rename_unseen(database_url, lamp, "Unseen Lamp")
    assert names(editor.get("/products").data) == ["Unseen Lamp"]
    response = editor.get("/products")
    assert "ETag" not in response.headers


def test_etag_and_304(client, sql, lamp):
    first = client.get("/products?q=lamp")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "no-cache"
    again = client.get("/products?q=lamp", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    partial = client.get("/products?q=lamp", headers={**HX, "If-None-Match": etag})
    assert partial.status_code == 200 and partial.headers["ETag"] != etag  # another rendering
    sql.execute("UPDATE products SET price = 12 WHERE id = %s", lamp)
    changed = client.get("/products?q=lamp", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_errors_are_not_kept(client, sql, lamp):
    assert client.get("/products/no-such-lamp").status_code == 404
    sql.product("No Such Lamp", category_id=sql.scalar("SELECT id FROM categories"))
    assert client.get("/products/no-such-lamp").status_code == 200


@pytest.fixture
def probe_app(make_app):
    """An app with one more cached blueprint whose views set a cookie or read the session:
    what the catalog's templates must never do, and the cache must then never keep."""
    application = make_app()
    bp = Blueprint("cache_probe", __name__)
    served = {"count": 0}

    @bp.get("/probe/cookie")
    def cookie():
        served["count"] += 1
        response = make_response(f"render {served['count']}")
        response.set_cookie("chosen", "x")
        return response

    @bp.get("/probe/session")
    def reads_session():
        served["count"] += 1
        return f"render {served['count']} for {session.get('user', 'nobody')}"

    cache_blueprint(bp)
    application.register_blueprint(bp)
    return application


@pytest.mark.parametrize("path", ["/probe/cookie", "/probe/session"])
def test_responses_that_set_a_cookie_or_read_the_session_are_not_kept(probe_app, path):
    client = probe_app.test_client()
    first = client.get(path).get_data(as_text=True)
    second = client.get(path).get_data(as_text=True)
    assert first != second
    assert "ETag" not in client.get(path).headers


def test_off_means_every_request_reads_the_database(make_app, database_url, lamp):
    client = make_app(RESPONSE_CACHE=False).test_client()
    assert names(client.get("/products").data) == ["Brass Lamp"]
    rename_unseen(database_url, lamp, "Unseen Lamp")
    response = client.get("/products")
    assert names(response.data) == ["Unseen Lamp"] and "ETag" not in response.headers


@pytest.fixture
def two_workers_on_redis(make_app, redis_url) -> Iterator[tuple]:
    """Two apps (two workers' worth of caches) sharing one Redis."""
    yield make_app(REDIS_URL=redis_url).test_client(), make_app(REDIS_URL=redis_url).test_client()


def test_redis_is_shared_by_every_worker(two_workers_on_redis, database_url, lamp):
    first, second = two_workers_on_redis
    page = first.get("/products?q=brass")
    assert names(page.data) == ["Brass Lamp"]
    rename_unseen(database_url, lamp, "Unseen Lamp")
    for _ in range(50):  # the first worker writes to Redis in the background
        kept = second.get("/products?q=brass")
        if names(kept.data) == ["Brass Lamp"]:
            break
    assert names(kept.data) == ["Brass Lamp"] and kept.data == page.data


def test_a_redis_that_is_down_means_uncached_never_an_error(make_app, lamp):
    client = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    errors = cache_count("error")
    for headers in ({}, HX, {}):
        response = client.get("/products", headers=headers)
        assert response.status_code == 200 and names(response.data) == ["Brass Lamp"]
    assert cache_count("error") > errors


# -- the worker's memory store holds only the versions still asked for -------------------------

def kept_page(body: bytes) -> CachedResponse:
    return CachedResponse(200, (("Content-Type", "text/html"),), body)


async def test_a_worker_keeps_only_the_two_versions_it_saw_last():
    store = MemoryStore(max_bytes=1024 * 1024)
    assert await store.get("v1", "page-a") is None
    await store.set("v1", "page-a", kept_page(b"a" * 1000))
    assert await store.get("v2", "page-b") is None  # an editor saved: a new version
    await store.set("v2", "page-b", kept_page(b"b" * 1000))
    # Both are kept: requests on either side of a change still find their pages.
    assert len(store) == 2
    assert (await store.get("v1", "page-a")).body == b"a" * 1000
    # A third version: the first one's pages can never be asked for again, so they go.
    assert await store.get("v3", "page-c") is None
    assert len(store) == 1 and store.bytes == kept_page(b"b" * 1000).size
    # A request that read v1 just before the change finishes now: its page is not kept, and
    # seeing v1 again does not push v2 out.
    assert await store.get("v1", "page-a") is None
    await store.set("v1", "page-a", kept_page(b"a" * 1000))
    assert len(store) == 1
    assert (await store.get("v2", "page-b")).body == b"b" * 1000
    await store.set("v3", "page-c", kept_page(b"c" * 1000))
    assert len(store) == 2


async def test_the_byte_bound_still_applies_within_a_version():
    page = kept_page(b"x" * 1000)
    store = MemoryStore(max_bytes=3 * page.size)
    for name in "abcd":
        await store.get("v1", name)
        await store.set("v1", name, page)
    assert len(store) == 3 and store.bytes == 3 * page.size
    assert await store.get("v1", "a") is None  # the least recently used went first


def test_catalog_changes_free_the_pages_of_old_versions(app, client, sql, lamp):
    """Editors saving every few seconds no longer fill a worker's whole cache budget with
    pages nobody can be served (the load test's workers grew by the full 64 MB)."""
    store = app.extensions[EXTENSION_KEY].store
    client.get("/products?q=lamp")
    client.get("/products")
    for name in ("Lamps", "Lights"):
        sql.execute("UPDATE categories SET name = %s", name)
        client.get("/products?q=lamp")
    client.get("/products?q=lamp")  # a hit: nothing more is kept
    # The versions before the two last changes held two pages; they are gone.
    assert len(store) == 2
    assert names(client.get("/products?q=lamp").data) == ["Brass Lamp"]
