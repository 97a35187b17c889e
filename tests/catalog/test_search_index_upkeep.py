"""A search right after many products changed (an import, a bulk action) reads at most a few
more blocks of the text indexes than before the change, and the table is vacuumed soon after
such a change (migration 0019). Measured in index blocks read, not in time."""

from __future__ import annotations

from typing import Any

import pytest

from ..support.sql import Sql

#: The most pages of not yet merged entries a GIN index of ``products`` keeps (128 kB).
PENDING_PAGES = 128 // 8

#: One search per GIN index of ``products``, and the index it must go through.
SEARCHES = {
    "ix_products_search_vector": "search_vector @@ to_tsquery('english', 'lamp')",
    "ix_products_name_trgm": "name ILIKE '%lamp%'",
    "ix_products_attributes": "attributes @> '{\"brand\": \"Orrery\"}'",
}


def _blocks_read(sql: Sql, index: str, condition: str) -> int:
    """Shared blocks the bitmap scan of ``index`` reads for ``condition`` (hit or read)."""
    with sql.connection.transaction():
        for scan in ("seqscan", "indexscan", "indexonlyscan"):  # a bitmap scan of the index
            sql.execute(f"SET LOCAL enable_{scan} = off")
        plan = sql.scalar("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)"  # noqa: S608 - SEARCHES
                          f" SELECT count(*) FROM products WHERE {condition}")

    def scans(node: dict[str, Any]) -> list[dict[str, Any]]:
        found = [node] if node.get("Index Name") == index else []
        for child in node.get("Plans", ()):
            found += scans(child)
        return found

    nodes = scans(plan[0]["Plan"])
    assert nodes, f"the search did not use {index}"
    return sum(node["Shared Hit Blocks"] + node["Shared Read Blocks"] for node in nodes)


@pytest.mark.parametrize("index", SEARCHES)
def test_a_search_after_many_changes_reads_a_bounded_part_more_of_the_index(
        sql: Sql, index: str) -> None:
    category = sql.category("Lighting")
    for n in range(300):
        sql.product(f"Walnut lamp {n}", category_id=category, description="A reading lamp",
                    attributes={"brand": "Orrery" if n % 2 else "Nordhavn", "colour": "Green",
                                **{f"detail {k}": f"value {n} {k}" for k in range(12)}})
    sql.execute("VACUUM products")
    before = _blocks_read(sql, index, SEARCHES[index])

    # Imports raising every stock by one, five times: each time each product gets a new row
    # version, whose entries go into every index of the table (with PostgreSQL's default of
    # 4 MB, each index's pending list grew to 50-75 pages).
    for _ in range(5):
        sql.execute("UPDATE products SET stock = stock + 1")
    after = _blocks_read(sql, index, SEARCHES[index])

    assert after <= before + PENDING_PAGES, f"{index}: {after} blocks after, {before} before"


def test_autovacuum_is_set_to_vacuum_products_after_one_percent_of_it_changed(sql: Sql) -> None:
    """Autovacuum's default waits for 20% of a table to change; until a vacuum, every page a
    change touched is read from the heap by the facet counts' index-only scans."""
    options = sql.scalar("SELECT reloptions FROM pg_class WHERE relname = 'products'")
    assert "autovacuum_vacuum_scale_factor=0.01" in options
    assert "autovacuum_vacuum_insert_scale_factor=0.01" in options
