"""Catalog test helpers: a small hand-made shop with known facets, the product names a page
shows, and running query-layer code on the app's event loop."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.html import Element, parse

HX = {"HX-Request": "true"}


@dataclass
class Shop:
    lighting: int
    floor_lamps: int
    table_lamps: int
    furniture: int
    chairs: int
    products: dict[str, int]


@pytest.fixture
def shop(sql) -> Shop:
    """Two departments, five leaf products per side, one inactive product.

    name                   category      price   brand      colour   size stock
    Brass Floor Lamp       Floor Lamps   120.00  Nordhavn   black    L    3
    Linen Floor Lamp       Floor Lamps    80.00  Halden     white    M    0
    Oak Reading Lamp       Floor Lamps    99.99  Halden     natural  M    2
    Brass Table Lamp       Table Lamps    45.00  Nordhavn   gold     S    10
    Ceramic Table Lamp     Table Lamps    35.50  Mossgrove  white    S    7
    Leather Lounge Chair   Chairs        420.00  Nordhavn   black    L    1
    Oak Dining Chair       Chairs        150.00  Greywood   natural  M    0
    Hidden Chair (inactive) Chairs        10.00  Nordhavn   black    S    4
    """
    lighting = sql.category("Lighting", "lighting")
    floor = sql.category("Floor Lamps", "lighting-floor-lamps", parent_id=lighting)
    table = sql.category("Table Lamps", "lighting-table-lamps", parent_id=lighting)
    furniture = sql.category("Furniture", "furniture")
    chairs = sql.category("Chairs", "furniture-chairs", parent_id=furniture)
    rows = [
        ("Brass Floor Lamp", floor, "120.00", "Nordhavn", "black", "L", 3, True, 1),
        ("Linen Floor Lamp", floor, "80.00", "Halden", "white", "M", 0, True, 2),
        ("Oak Reading Lamp", floor, "99.99", "Halden", "natural", "M", 2, True, 3),
        ("Brass Table Lamp", table, "45.00", "Nordhavn", "gold", "S", 10, True, 4),
        ("Ceramic Table Lamp", table, "35.50", "Mossgrove", "white", "S", 7, True, 5),
        ("Leather Lounge Chair", chairs, "420.00", "Nordhavn", "black", "L", 1, True, 6),
        ("Oak Dining Chair", chairs, "150.00", "Greywood", "natural", "M", 0, True, 7),
        ("Hidden Chair", chairs, "10.00", "Nordhavn", "black", "S", 4, False, 8),
    ]
    ids = {}
    for name, category, price, brand, colour, size, stock, active, day in rows:
        ids[name] = sql.product(
            name, category_id=category, price=price, stock=stock, is_active=active,
            attributes={"brand": brand, "colour": colour, "size": size, "material": "mixed"},
            description=f"A {colour} piece by {brand}, made to last.",
            created_at=f"2026-10-{day:02d}T12:00:00Z",
        )
    return Shop(lighting, floor, table, furniture, chairs, ids)


def names(html: str | bytes | Element) -> list[str]:
    """Product names on a result page, in order."""
    root = html if isinstance(html, Element) else parse(html)
    return [e.text for e in root.find_all("span", class_="product-name")]


def facet_counts(html: str | bytes | Element, facet: str) -> dict[str, int]:
    """value -> count of the checkboxes a facet shows (disabled ones included)."""
    root = html if isinstance(html, Element) else parse(html)
    fieldset = root.by_id(f"facet-{facet}")
    counts = {}
    for item in fieldset.find_all("li"):
        box = item.find("input")
        count = item.find("span", class_="count").text.replace("about", "").strip(" ~")
        counts[box.get("value")] = int(count.replace(",", ""))
    return counts


def checked(html: str | bytes | Element, facet: str) -> set[str]:
    root = html if isinstance(html, Element) else parse(html)
    fieldset = root.by_id(f"facet-{facet}")
    return {box.get("value") for box in fieldset.find_all("input") if box.has("checked")}


def seed_demo_products(sql, count: int, seed: int = 7) -> dict[str, int]:
    """The demo seed's categories and ``count`` generated products (COPY, as ``flask seed``
    does); returns category slug -> id."""
    from app.data.seed import category_rows, generate_products

    ids: dict[str, int] = {}
    for name, slug, parent in category_rows():
        ids[slug] = sql.category(name, slug, parent_id=ids.get(parent) if parent else None)
    columns = ("name, slug, description, price, stock, is_active, attributes, category_id,"
               " created_at, updated_at")
    with sql.connection.cursor() as cursor, \
            cursor.copy(f"COPY products ({columns}) FROM STDIN") as copy:
        for row in generate_products(count, seed, ids):
            copy.write_row(row)
    sql.execute("ANALYZE products")
    return ids


def _sent(app, entry):
    """Yield the list of ``entry(statement on one line, parameters)`` of every statement the
    app sends, in order, while the test runs (it may clear it)."""
    from sqlalchemy import event

    async def engine():
        return app.extensions["vitrine_db"].engine

    sync_engine = app.run_blocking(engine()).sync_engine
    sent: list = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(entry(" ".join(statement.split()), tuple(parameters or ())))

    event.listen(sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(sync_engine, "before_cursor_execute", record)


@pytest.fixture
def sent_sql(app):
    """The SQL text of every statement the app sends, in order (cleared by the test)."""
    yield from _sent(app, lambda statement, parameters: statement)


@pytest.fixture
def sent_statements(app):
    """Every statement the app sends, in order, as (SQL text, parameters)."""
    yield from _sent(app, lambda statement, parameters: (statement, parameters))
