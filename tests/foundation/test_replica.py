"""A read replica for shoppers, against a real streaming replica this module starts.

A primary (``initdb``) and a hot standby of it (``pg_basebackup -R``), both from the binaries
the embedded server ships (:mod:`app.ops.replica_cluster`), on free ports in a temporary
directory, stopped by pid at the end. Where a read went is shown by pausing the replica's WAL
replay: a product added on the primary is then missing from whatever reads the replica.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade

from app import create_app
from app.ops.replica_cluster import LocalServer, init_primary, start_replica
from tests.catalog.conftest import HX, names
from tests.support.clients import sign_in_client
from tests.support.editing import save_name
from tests.support.sql import Sql

pytestmark = pytest.mark.live

DATABASE = "vitrine"


def eventually(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[LocalServer, LocalServer]]:
    with tempfile.TemporaryDirectory(prefix="vitrine-replica-") as base:
        primary = init_primary(Path(base) / "primary")
        replica: LocalServer | None = None
        try:
            with psycopg.connect(primary.url(), autocommit=True) as connection:
                connection.execute(f"CREATE DATABASE {DATABASE}")
            migrating = create_app("testing", DATABASE_URL=primary.url(DATABASE))
            with migrating.app_context():
                upgrade()
            migrating.close()
            replica = start_replica(primary.url(), Path(base) / "replica")
            yield primary, replica
        finally:
            if replica is not None:
                replica.stop()
            primary.stop()


@pytest.fixture
def primary_sql(cluster) -> Iterator[Sql]:
    primary, _ = cluster
    with psycopg.connect(primary.url(DATABASE), autocommit=True) as connection:
        connection.execute("TRUNCATE product_revisions, api_tokens, products, categories, users"
                           " RESTART IDENTITY CASCADE")
        yield Sql(connection)


@pytest.fixture
def replica_sql(cluster) -> Iterator[Sql]:
    _, replica = cluster
    if replica.pid is None:
        replica.start()
    with contextlib.closing(psycopg.connect(replica.url(DATABASE), autocommit=True)) as connection:
        yield Sql(connection)
        if replica.pid is not None:  # (a test may have stopped it)
            connection.execute("SELECT pg_wal_replay_resume()")


@pytest.fixture
def make_shop(cluster, make_app):
    """Apps on the cluster's primary with its replica for shopper reads."""
    primary, replica = cluster
    return lambda **overrides: make_app(DATABASE_URL=primary.url(DATABASE),
                                        DATABASE_REPLICA_URL=replica.url(DATABASE), **overrides)


@pytest.fixture
def lamp(primary_sql, replica_sql) -> int:
    """A product both servers have (the replica has caught up)."""
    category = primary_sql.category("Lighting")
    lamp = primary_sql.product("Brass Lamp", category_id=category,
                               attributes={"brand": "Halden", "colour": "black"})
    eventually(lambda: replica_sql.scalar("SELECT count(*) FROM products") == 1)
    return lamp


def add_behind_the_replica(primary_sql: Sql, replica_sql: Sql, name: str) -> None:
    """Pause the replica's replay, then add a product on the primary only."""
    replica_sql.execute("SELECT pg_wal_replay_pause()")
    eventually(lambda: replica_sql.scalar("SELECT pg_get_wal_replay_pause_state()") == "paused")
    primary_sql.product(name, category_id=primary_sql.scalar("SELECT min(id) FROM categories"))


def reads_the_replica(client, path: str = "/products", **headers: str) -> None:
    """``client``'s shopper reads show the replica's (paused) state: at once, or as soon as
    its worker has checked the replica (its first check opens a connection, which a busy
    machine can make slower than the check's bound)."""
    eventually(lambda: names(client.get(path, headers=headers).data) == ["Brass Lamp"])


def api_names(client, **headers) -> list[str]:
    response = client.get("/api/v1/products", headers=headers)
    assert response.status_code == 200
    return sorted(item["name"] for item in response.json["items"])


def test_shoppers_read_the_replica_editors_and_writes_the_primary(make_shop, primary_sql,
                                                                   replica_sql, lamp):
    shop = make_shop(REPLICA_MAX_LAG=3600)
    primary_sql.user("ed@example.com", role="editor")
    editor = sign_in_client(shop, "ed@example.com")
    add_behind_the_replica(primary_sql, replica_sql, "Oak Chair")

    shopper = shop.test_client()
    for headers in ({}, HX):
        reads_the_replica(shopper, **headers)
    eventually(lambda: shopper.get("/products/oak-chair").status_code == 404)  # not there yet
    eventually(lambda: api_names(shopper) == ["Brass Lamp"])
    # the editor's table reads the primary
    assert "Oak Chair" in editor.get("/editor/products").get_data(as_text=True)

    save_name(editor, primary_sql, lamp, "Brass Desk Lamp")  # a write: on the primary
    assert primary_sql.scalar("SELECT name FROM products WHERE id = %s", lamp) == "Brass Desk Lamp"
    # right after their own write, the editor reads the primary: their save and everything
    assert sorted(names(editor.get("/products").data)) == ["Brass Desk Lamp", "Oak Chair"]
    reads_the_replica(shopper)  # shoppers: the replica
    # without that window, a signed-in editor's shop pages are shopper reads like any other
    no_window = make_shop(REPLICA_MAX_LAG=3600, READ_YOUR_WRITES=0)
    reads_the_replica(sign_in_client(no_window, "ed@example.com"))

    replica_sql.execute("SELECT pg_wal_replay_resume()")
    eventually(lambda: sorted(names(shopper.get("/products").data))
               == ["Brass Desk Lamp", "Oak Chair"])


def test_a_replica_lagging_past_the_bound_sends_shoppers_to_the_primary(make_shop, primary_sql,
                                                                        replica_sql, lamp):
    shop = make_shop(REPLICA_MAX_LAG=0.2)
    shopper = shop.test_client()
    assert names(shopper.get("/products").data) == ["Brass Lamp"]
    add_behind_the_replica(primary_sql, replica_sql, "Oak Chair")
    # within a second or so the worker sees the lag and reads the primary; no request fails
    eventually(lambda: sorted(names(shopper.get("/products").data)) == ["Brass Lamp", "Oak Chair"])
    assert api_names(shopper) == ["Brass Lamp", "Oak Chair"]


@pytest.mark.parametrize("cache", [True, False], ids=["cached", "uncached"])
def test_a_replica_stopped_mid_test_costs_no_request(cluster, make_shop, primary_sql,
                                                     replica_sql, lamp, cache):
    _, replica = cluster
    shop = make_shop(REPLICA_MAX_LAG=3600, RESPONSE_CACHE=cache)
    shopper = shop.test_client()
    add_behind_the_replica(primary_sql, replica_sql, "Oak Chair")
    reads_the_replica(shopper)  # the replica, for now
    replica.stop()
    for headers in ({}, HX, {}, HX):
        response = shopper.get("/products", headers=headers)
        assert response.status_code == 200
        assert sorted(names(response.data)) == ["Brass Lamp", "Oak Chair"]  # the primary
    assert shopper.get("/products/oak-chair").status_code == 200
    assert api_names(shopper) == ["Brass Lamp", "Oak Chair"]
