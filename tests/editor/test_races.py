"""Concurrent writes against a real two-worker server: a unique value created twice at once, copies
of one product, API creates of one name, crossing category moves, and one command key (a form's,
an API Idempotency-Key) sent twice at once.

Each race is a few rounds of requests sent together (``asyncio.gather``, a new connection per
request so both workers take part). What a user would notice is asserted: never a 500, the same
message as when the requests come one after the other, exactly one row where one may exist, a
distinct slug for every copy, and a category tree that stays one level deep.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal

import httpx
import psycopg
import pytest

from app.data.urls import libpq_dsn
from tests.api.conftest import insert_token
from tests.support.clients import PASSWORD, command_key
from tests.support.html import csrf_token, parse

pytestmark = pytest.mark.live

ROUNDS = 3
API_TOKEN = "vit_" + "r" * 43
#: What the admin is told when a move breaks the one-level rule, whichever request won.
DEPTH_REFUSALS = ("is itself a sub-category", "has sub-categories",
                  "Categories go only one level deep")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.support.live import start_server

    live = start_server(database_url, tmp_path_factory.mktemp("races"), workers=2)
    try:
        yield live.url
    finally:
        live.stop()


class _FormClient(httpx.AsyncClient):
    """Posts forms as the editor's pages do: each with its own one-time command key."""

    async def post(self, url, *, data=None, **kwargs):  # noqa: ANN001, ANN003, ANN201
        if "json" not in kwargs and (data is None or (isinstance(data, dict)
                                                      and "command_key" not in data)):
            data = {**(data or {}), "command_key": command_key()}
        return await super().post(url, data=data, **kwargs)


def _client(base_url: str) -> httpx.AsyncClient:
    # No keep-alive: every request is a new connection, which either worker may accept.
    return _FormClient(base_url=base_url, timeout=60,
                       limits=httpx.Limits(max_keepalive_connections=0))


@asynccontextmanager
async def _signed_in(base_url: str, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in through the form, sending the CSRF token and ``HX-Request``."""
    async with _client(base_url) as client:
        page = await client.get("/auth/login")
        answer = await client.post("/auth/login", data={
            "email": email, "password": PASSWORD, "csrf_token": csrf_token(page.text)})
        assert answer.status_code == 302, answer.text[:500]
        token = csrf_token((await client.get("/editor/products")).text)
        client.headers.update({"X-CSRFToken": token, "HX-Request": "true"})
        yield client


def _run(coroutine):  # noqa: ANN001, ANN202 - a test's own event loop, one per race
    return asyncio.run(coroutine)


def _error_text(response: httpx.Response) -> str:
    return parse(response.text).text


def _assert_no_server_error(responses: list[httpx.Response]) -> None:
    assert [r.status_code for r in responses if r.status_code >= 500] == [], \
        [r.text[:300] for r in responses if r.status_code >= 500]


def _tree_is_one_level_deep(sql) -> None:
    deep = sql.all("SELECT c.name FROM categories c JOIN categories p ON p.id = c.parent_id"
                   " WHERE p.parent_id IS NOT NULL")
    assert deep == []


# -- unique values -------------------------------------------------------------------------------

def test_the_same_user_created_at_once_is_created_once(server, sql):
    sql.user("ad@example.com", role="admin")

    async def race() -> list[list[httpx.Response]]:
        async with _signed_in(server, "ad@example.com") as admin:
            return [list(await asyncio.gather(*(
                admin.post("/editor/users", data={"email": email, "password": "long enough pw",
                                                  "role": "editor"})
                for email in (f"new{n}@example.com", f"New{n}@Example.com"))))
                for n in range(ROUNDS)]

    for n, responses in enumerate(_run(race())):
        _assert_no_server_error(responses)
        assert sorted(r.status_code for r in responses) == [200, 422]
        refused = next(r for r in responses if r.status_code == 422)
        assert "A user with email" in _error_text(refused) and "already exists" in \
            _error_text(refused)
        assert sql.scalar("SELECT count(*) FROM users WHERE lower(email) = %s",
                          f"new{n}@example.com") == 1


def test_the_same_category_created_at_once_is_created_once_per_parent(server, sql):
    """Six "Garden"s at the top level: one. One under each of three parents: three more, each
    with its own slug."""
    sql.user("ad@example.com", role="admin")
    parents = [sql.category(f"Department {n}") for n in range(3)]
    sequential = "There is already a category called"

    async def race() -> list[httpx.Response]:
        async with _signed_in(server, "ad@example.com") as admin:
            top = [admin.post("/editor/categories", data={"name": name})
                   for name in ("Garden", "garden", "GARDEN", "Garden", "garden ", "Garden")]
            under = [admin.post("/editor/categories", data={"name": "Garden",
                                                             "parent_id": str(parent)})
                     for parent in parents]
            return list(await asyncio.gather(*top, *under))

    responses = _run(race())
    _assert_no_server_error(responses)
    top, under = responses[:6], responses[6:]
    assert sorted(r.status_code for r in top) == [200] + [422] * 5
    assert all(sequential in _error_text(r) for r in top if r.status_code == 422)
    assert [r.status_code for r in under] == [200] * 3
    rows = sql.all("SELECT slug, parent_id FROM categories WHERE lower(name) = 'garden'")
    assert Counter(row["parent_id"] for row in rows) == Counter([None, *parents])
    assert len({row["slug"] for row in rows}) == 4


def test_api_creates_of_one_name_all_succeed_with_distinct_slugs(server, sql):
    editor = sql.user("api@example.com", role="editor")
    insert_token(sql, editor, API_TOKEN)
    category = sql.category("Lighting")
    headers = {"Authorization": f"Bearer {API_TOKEN}"}

    async def race() -> list[httpx.Response]:
        async with _client(server) as client:
            return list(await asyncio.gather(*(
                client.post("/api/v1/products", headers=headers, json={
                    "name": "Brass Lamp", "price": "10.00", "category_id": category})
                for _ in range(12))))

    responses = _run(race())
    _assert_no_server_error(responses)
    assert [r.status_code for r in responses] == [201] * 12
    slugs = {r.json()["slug"] for r in responses}
    assert len(slugs) == 12 and "brass-lamp" in slugs
    assert sql.scalar("SELECT count(DISTINCT slug) FROM products") == 12


def test_24_concurrent_duplicates_all_succeed_with_distinct_slugs(server, sql):
    sql.user("ed@example.com", role="editor")
    lamp = sql.product("Brass Lamp", category_id=sql.category("Lighting"))

    async def race() -> list[httpx.Response]:
        async with _signed_in(server, "ed@example.com") as editor:
            return list(await asyncio.gather(*(
                editor.post(f"/editor/products/{lamp}/duplicate") for _ in range(24))))

    responses = _run(race())
    _assert_no_server_error(responses)
    assert [r.status_code for r in responses] == [201] * 24
    copies = sql.all("SELECT slug, name FROM products WHERE id <> %s", lamp)
    assert len(copies) == 24 and {c["name"] for c in copies} == {"Brass Lamp (copy)"}
    assert len({c["slug"] for c in copies}) == 24
    assert sql.scalar("SELECT count(*) FROM product_revisions WHERE source = 'duplicate'") == 24


# -- category moves ------------------------------------------------------------------------------

def _move(admin: httpx.AsyncClient, category: int, name: str, parent: int | None):  # noqa: ANN202
    return admin.post(f"/editor/categories/{category}",
                      data={"name": name, "parent_id": "" if parent is None else str(parent)})


def _assert_refused_for_depth(responses: list[httpx.Response]) -> None:
    for response in responses:
        if response.status_code != 200:
            assert response.status_code == 422
            assert any(words in _error_text(response) for words in DEPTH_REFUSALS), \
                _error_text(response)[:500]


def test_crossing_moves_one_succeeds_and_the_other_is_refused(server, sql):
    """A under B while B goes under A: never a deadlock, never both."""
    sql.user("ad@example.com", role="admin")
    pairs = [(sql.category(f"A{n}"), sql.category(f"B{n}")) for n in range(ROUNDS * 2)]

    async def race() -> list[list[httpx.Response]]:
        async with _signed_in(server, "ad@example.com") as admin:
            return [list(await asyncio.gather(_move(admin, a, f"A{n}", b),
                                              _move(admin, b, f"B{n}", a)))
                    for n, (a, b) in enumerate(pairs)]

    for responses in _run(race()):
        _assert_no_server_error(responses)
        assert sorted(r.status_code for r in responses) == [200, 422]
        _assert_refused_for_depth(responses)
    _tree_is_one_level_deep(sql)
    assert sql.scalar("SELECT count(*) FROM categories WHERE parent_id IS NOT NULL") == \
        len(pairs)


def test_chained_moves_and_creates_never_make_a_two_level_tree(server, sql):
    """A under B while B goes under C (and a new category is created under B): at most one of
    the changes that would nest B's children twice succeeds."""
    sql.user("ad@example.com", role="admin")
    triples = [tuple(sql.category(f"{letter}{n}") for letter in "ABC") for n in range(ROUNDS)]

    async def race() -> list[list[httpx.Response]]:
        async with _signed_in(server, "ad@example.com") as admin:
            return [list(await asyncio.gather(
                _move(admin, a, f"A{n}", b), _move(admin, b, f"B{n}", c),
                admin.post("/editor/categories", data={"name": f"D{n}", "parent_id": str(b)})))
                for n, (a, b, c) in enumerate(triples)]

    for responses in _run(race()):
        _assert_no_server_error(responses)
        _assert_refused_for_depth(responses)
        assert 1 <= [r.status_code for r in responses].count(200) <= 2
    _tree_is_one_level_deep(sql)


# -- commands applied at most once ---------------------------------------------------------------

@contextmanager
def _row_locked(database_url: str, product_id: int) -> Iterator[psycopg.Connection]:
    """Hold the product's row lock from outside, so requests that change it wait inside their
    transaction (after claiming their command key) until the block ends."""
    with psycopg.connect(libpq_dsn(database_url)) as connection:
        connection.execute("SELECT 1 FROM products WHERE id = %s FOR UPDATE", (product_id,))
        yield connection
        connection.rollback()


async def _until_waiting(sql, count: int) -> None:
    """Until ``count`` of the server's backends wait on a lock (the requests are inside)."""
    for _ in range(400):
        waiting = sql.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type ="
                             " 'Lock' AND application_name LIKE 'vitrine%%'")
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} requests reached the database")


def _save(category: int, key: str, price: str) -> dict[str, str]:
    return {"command_key": key, "version": "1", "name": "Brass Lamp", "price": price,
            "stock": "5", "category_id": str(category), "is_active": "y"}


def test_the_same_command_key_sent_twice_at_once_is_applied_once(server, sql):
    """A double-click reaching both workers: every round, both requests answer the same and
    exactly one revision is written."""
    sql.user("ed@example.com", role="editor")
    category = sql.category("Lighting")
    lamps = [sql.product(f"Lamp {n}", category_id=category, price="10.00")
             for n in range(ROUNDS * 2)]

    async def race() -> list[list[httpx.Response]]:
        async with _signed_in(server, "ed@example.com") as editor:
            rounds = []
            for lamp in lamps:
                data = _save(category, command_key(), "12.00")
                rounds.append(list(await asyncio.gather(*(
                    editor.put(f"/editor/products/{lamp}", data=data) for _ in range(2)))))
            return rounds

    for lamp, responses in zip(lamps, _run(race()), strict=True):
        _assert_no_server_error(responses)
        assert [r.status_code for r in responses] == [200, 200]
        assert responses[0].text == responses[1].text
        assert sql.scalar("SELECT count(*) FROM product_revisions WHERE product_id = %s",
                          lamp) == 1


def test_a_duplicate_arriving_while_the_first_is_in_its_transaction_waits_and_replays(
        server, sql, database_url):
    sql.user("ed@example.com", role="editor")
    category = sql.category("Lighting")
    lamp = sql.product("Brass Lamp", category_id=category, price="10.00")

    async def race() -> list[httpx.Response]:
        async with _signed_in(server, "ed@example.com") as editor:
            data = _save(category, command_key(), "12.00")
            with _row_locked(database_url, lamp):
                sends = [asyncio.ensure_future(editor.put(f"/editor/products/{lamp}", data=data))
                         for _ in range(2)]
                # One waits on the product's row, the other on the first one's command key.
                await _until_waiting(sql, 2)
            return list(await asyncio.gather(*sends))

    responses = _run(race())
    _assert_no_server_error(responses)
    assert [r.status_code for r in responses] == [200, 200]
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert sql.scalar("SELECT count(*) FROM product_revisions WHERE product_id = %s", lamp) == 1
    assert sql.scalar("SELECT price FROM products WHERE id = %s", lamp) == Decimal("12.00")


def test_an_api_key_still_in_progress_is_409_then_replays(server, sql, database_url):
    editor = sql.user("api@example.com", role="editor")
    insert_token(sql, editor, API_TOKEN)
    lamp = sql.product("Brass Lamp", category_id=sql.category("Lighting"), price="10.00")
    headers = {"Authorization": f"Bearer {API_TOKEN}", "If-Match": '"1"',
               "Idempotency-Key": '"6f1c2f0e-8d1e-4c55-9b8e-3d3c1e0b7a10"'}

    async def race() -> list[httpx.Response]:
        async with _client(server) as client:
            with _row_locked(database_url, lamp):
                first = asyncio.ensure_future(client.patch(
                    f"/api/v1/products/{lamp}", headers=headers, json={"price": "12.00"}))
                await _until_waiting(sql, 1)
                during = await client.patch(f"/api/v1/products/{lamp}", headers=headers,
                                            json={"price": "12.00"})
            done = await first  # once the first request has answered, its outcome is stored
            after = await client.patch(f"/api/v1/products/{lamp}", headers=headers,
                                       json={"price": "12.00"})
            return [done, during, after]

    first, during, after = _run(race())
    assert first.status_code == 200 and first.json()["version"] == 2
    assert during.status_code == 409 and "still being processed" in during.json()["error"]
    assert after.status_code == 200 and after.headers["Idempotent-Replayed"] == "true"
    assert after.json() == first.json() and after.headers["ETag"] == first.headers["ETag"]
    assert sql.scalar("SELECT count(*) FROM product_revisions WHERE product_id = %s", lamp) == 1
