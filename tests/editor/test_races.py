"""Concurrent writes against a real two-worker server: a unique value created twice at once, copies
of one product, API creates of one name, and crossing category moves.

Each race is a few rounds of requests sent together (``asyncio.gather``, a new connection per
request so both workers take part). What a user would notice is asserted: never a 500, the same
message as when the requests come one after the other, exactly one row where one may exist, a
distinct slug for every copy, and a category tree that stays one level deep.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest

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
