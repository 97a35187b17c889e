"""The catalog version (migration 0008): new at the commit of any catalog change, and only then;
concurrent catalog writers do not wait for each other's whole transactions."""

from __future__ import annotations

import psycopg
import pytest

from app.data.urls import libpq_dsn


def version(sql) -> str:
    return str(sql.scalar("SELECT version FROM catalog_version"))


@pytest.fixture
def connect(database_url):
    opened: list[psycopg.Connection] = []

    def make() -> psycopg.Connection:
        connection = psycopg.connect(libpq_dsn(database_url))
        opened.append(connection)
        return connection

    yield make
    for connection in opened:
        connection.close()


@pytest.mark.parametrize("statement", [
    "UPDATE products SET stock = stock + 1",
    "DELETE FROM products",
    "UPDATE categories SET name = name || '!'",
    "INSERT INTO categories (name, slug) VALUES ('Garden', 'garden')",
])
def test_every_committed_catalog_change_gives_a_new_version(sql, statement):
    sql.product("Lamp", category_id=sql.category("Lighting"))
    before = version(sql)
    sql.execute(statement)
    assert version(sql) != before


def test_the_new_version_is_seen_only_when_the_change_is(sql, connect):
    category = sql.category("Lighting")
    before = version(sql)
    writer = connect()
    writer.execute("INSERT INTO products (name, slug, price, stock, category_id)"
                   " VALUES ('Lamp', 'lamp', 1, 1, %s)", (category,))
    writer.execute("UPDATE products SET stock = 2")
    assert version(sql) == before  # not committed: neither the row nor a new version
    writer.rollback()
    assert version(sql) == before  # rolled back: nothing changed
    writer.execute("INSERT INTO products (name, slug, price, stock, category_id)"
                   " VALUES ('Lamp', 'lamp', 1, 1, %s)", (category,))
    writer.execute("UPDATE products SET stock = 3")
    writer.commit()
    after = version(sql)
    assert after != before and sql.scalar("SELECT count(*) FROM products") == 1
    assert sql.scalar("SELECT count(*) FROM catalog_version_pending") == 0


def test_a_writer_does_not_wait_for_another_writers_open_transaction(sql, connect):
    category = sql.category("Lighting")
    first_id = sql.product("Lamp", category_id=category)
    second_id = sql.product("Chair", category_id=category)
    first, second = connect(), connect()
    second.execute("SET lock_timeout = '2s'")  # a wait for the version row would fail here
    first.execute("UPDATE products SET stock = 7 WHERE id = %s", (first_id,))
    before = version(sql)
    second.execute("UPDATE products SET stock = 8 WHERE id = %s", (second_id,))
    second.commit()  # while the first is still open
    middle = version(sql)
    first.commit()
    assert len({before, middle, version(sql)}) == 3
