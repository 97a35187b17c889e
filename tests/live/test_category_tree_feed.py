"""A served worker's category tree follows the change feed: shopper pages read no
``category_tree_version`` while the feed is caught up, a category or synonym change reaches the
next page once its event arrives, and without the feed the tree is polled again."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.data.synonyms import add_synonyms


@pytest.fixture
def served(make_app):
    """An app started as a served worker is (its startup hooks: listener, feed), response cache
    off so every page reaches the tree; its listener stopped afterwards."""
    application = make_app(RESPONSE_CACHE=False, CATALOG_TREE_RECHECK=3600.0)
    application.run_blocking(application.run_startup_hooks())
    yield application
    application.run_blocking(application.run_shutdown_hooks())


class Statements:
    """Counts statements that read ``category_tree_version``."""

    def __init__(self) -> None:
        self.version_reads = 0
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args) -> None:
        if "category_tree_version" in statement:
            self.version_reads += 1

    def close(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._seen)


@pytest.fixture
def statements():
    counter = Statements()
    yield counter
    counter.close()


def _dispatched(app, kind: str) -> int:
    async def read() -> int:
        return app.extensions["vitrine_live"].hub().dispatched.get(kind, 0)

    return app.run_blocking(read())


def _wait_for(app, kind: str, before: int) -> None:
    deadline = time.monotonic() + 10
    while _dispatched(app, kind) == before:
        assert time.monotonic() < deadline, f"no {kind} event arrived"
        time.sleep(0.05)


def _settle(app, sql) -> None:
    """Wait until the worker's feed has delivered everything committed so far (the test's own
    inserts are events too) and is caught up."""
    target = sql.scalar("SELECT coalesce(max(id), 0) FROM live_events")

    async def settled() -> bool:
        service = app.extensions["vitrine_live"]
        return service.hub().last_id >= target and service.listener().caught_up

    deadline = time.monotonic() + 10
    while not app.run_blocking(settled()):
        assert time.monotonic() < deadline, "the feed did not catch up"
        time.sleep(0.05)


def test_a_renamed_category_reaches_the_next_page_without_polling(served, sql, statements):
    lighting = sql.category("Lighting", "lighting")
    sql.product("Brass Lamp", category_id=lighting)
    _settle(served, sql)
    client = served.test_client()
    assert "Lighting" in client.get("/products").get_data(as_text=True)  # the tree is read
    before = statements.version_reads
    for _ in range(3):
        assert client.get("/products?category=lighting").status_code == 200
    assert statements.version_reads == before  # no poll while the feed is caught up

    events = _dispatched(served, "category")
    sql.execute("UPDATE categories SET name = 'Lamps and Lights' WHERE id = %s", lighting)
    _wait_for(served, "category", events)
    page = client.get("/products?category=lighting").get_data(as_text=True)
    assert "Lamps and Lights" in page


def test_a_new_synonym_is_searched_once_its_event_arrives(served, sql, run_db):
    lighting = sql.category("Lighting", "lighting")
    sql.product("Brass Lamp", category_id=lighting)
    client = served.test_client()
    # (names are highlighted: the product's link is looked for)
    assert "/products/brass-lamp" not in client.get("/products?q=luminaire").get_data(as_text=True)

    events = _dispatched(served, "synonyms")

    async def add(session):
        return await add_synonyms(session, "lamp, luminaire")

    database = served.extensions["vitrine_db"]

    async def commit():
        async with database.session() as session:
            await add(session)
            await session.commit()

    served.run_blocking(commit())
    _wait_for(served, "synonyms", events)
    assert "/products/brass-lamp" in client.get("/products?q=luminaire").get_data(as_text=True)


def test_without_the_feed_the_tree_is_polled_and_stays_exact(served, sql, statements):
    lighting = sql.category("Lighting", "lighting")
    sql.product("Brass Lamp", category_id=lighting)
    client = served.test_client()
    client.get("/products")

    async def stop_listener() -> None:
        await served.extensions["vitrine_live"].listener().stop()

    served.run_blocking(stop_listener())
    before = statements.version_reads
    sql.execute("UPDATE categories SET name = 'Lamps and Lights' WHERE id = %s", lighting)
    page = client.get("/products?category=lighting").get_data(as_text=True)
    assert statements.version_reads > before
    assert "Lamps and Lights" in page  # at once: no event needed


def test_a_cached_page_is_never_built_from_a_tree_older_than_its_version(make_app, sql):
    """With the response cache on, a page is kept under the catalog version it read; its tree is
    checked against the tree version read in that same statement, so even a feed that has not
    delivered the change yet (frozen here) cannot put an old tree under the new version."""
    from app.catalog.tree import follow_changes

    application = make_app(CATALOG_TREE_RECHECK=3600.0)
    lighting = sql.category("Lighting", "lighting")
    sql.product("Brass Lamp", category_id=lighting)
    client = application.test_client()
    assert "Lighting" in client.get("/products").get_data(as_text=True)

    async def freeze() -> None:
        engine = application.extensions["vitrine_db"].engine.sync_engine
        follow_changes(engine, lambda: ("no event will come",))

    application.run_blocking(freeze())
    client.get("/products?category=lighting")
    sql.execute("UPDATE categories SET name = 'Lamps and Lights' WHERE id = %s", lighting)
    assert "Lamps and Lights" in client.get("/products?category=lighting").get_data(as_text=True)


def test_a_rolled_back_category_change_never_reaches_shoppers(served, sql, run_db):
    """An editor's transaction reads the tree with its own uncommitted change; it is rolled
    back: the next shopper page, on the same worker, still shows the committed name."""
    from sqlalchemy import text

    from app.catalog.tree import load_category_tree

    lighting = sql.category("Lighting", "lighting")
    sql.product("Brass Lamp", category_id=lighting)
    client = served.test_client()
    client.get("/products")
    database = served.extensions["vitrine_db"]

    async def rename_then_roll_back() -> str:
        async with database.session() as session:
            await session.execute(text("UPDATE categories SET name = 'Never Saved' WHERE id = :i"),
                                  {"i": lighting})
            tree = await load_category_tree(session)
            await session.rollback()
            return tree.nodes[lighting].name

    assert served.run_blocking(rename_then_roll_back()) == "Never Saved"
    page = client.get("/products?category=lighting").get_data(as_text=True)
    assert "Never Saved" not in page
    assert "Lighting" in page
