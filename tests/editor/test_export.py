"""The editor table's filter exported as CSV: the documented columns, exactly the filtered
products, escaped and neutralised against formula injection, for editors only, linked from the
table with its filter."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

from app.data.csv_format import COLUMNS
from tests.support.html import parse


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8")  # strictly UTF-8
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_the_export_holds_exactly_the_filtered_products_with_every_column(editor, sql):
    home = sql.category("Home")
    lighting = sql.category("Lighting", parent_id=home)
    garden = sql.category("Garden")
    lamp = sql.product("Brass Lamp", category_id=lighting, price="24.50", stock=3,
                       description="Brushed brass.",
                       attributes={"brand": "Lumen", "colour": "gold", "size": "M"})
    hidden = sql.product("Old Lamp", category_id=lighting, is_active=False)
    sql.product("Rake", category_id=garden)
    sql.execute("UPDATE products SET version = 4 WHERE id = %s", lamp)

    rows = read_csv(editor.get("/editor/products/export.csv?category=home"))
    assert [row["id"] for row in rows] == [str(lamp), str(hidden)]  # id order, all pages
    assert rows[0] == {
        "id": str(lamp), "slug": "brass-lamp", "name": "Brass Lamp",
        "description": "Brushed brass.", "price": "24.50", "stock": "3",
        "category": "home/lighting", "active": "true", "brand": "Lumen", "colour": "gold",
        "material": "", "size": "M", "version": "4"}
    assert rows[1]["active"] == "false"

    only_active = read_csv(editor.get("/editor/products/export.csv?category=home&status=active"))
    assert [row["id"] for row in only_active] == [str(lamp)]
    nothing = read_csv(editor.get("/editor/products/export.csv?q=nonexistentword"))
    assert nothing == []  # the header row alone


def test_the_download_is_a_named_attachment_that_is_not_cached(editor, sql):
    sql.product("Lamp", category_id=sql.category("Lighting"))
    response = editor.get("/editor/products/export.csv")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="products-')
    assert response.headers["Cache-Control"] == "no-store"


def test_awkward_text_survives_the_round_trip(editor, sql):
    category = sql.category("Lighting")
    name = 'Lamp, "Café" £12\nsecond line'
    sql.product(name, category_id=category, slug="awkward", description="naïve ☕ 日本")
    (row,) = read_csv(editor.get("/editor/products/export.csv"))
    assert row["name"] == name
    assert row["description"] == "naïve ☕ 日本"


def test_cells_a_spreadsheet_would_run_are_neutralised(editor, sql):
    category = sql.category("Lighting")
    sql.product("=HYPERLINK(\"http://evil.example\",\"click\")", category_id=category,
                slug="formula", description="+1+1",
                attributes={"brand": "@SUM(A1)", "colour": "-2", "material": "\tcmd",
                            "size": "\rx"})
    (row,) = read_csv(editor.get("/editor/products/export.csv"))
    assert row["name"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert row["description"] == "'+1+1"
    assert (row["brand"], row["colour"], row["material"], row["size"]) == (
        "'@SUM(A1)", "'-2", "'\tcmd", "'\rx")
    assert row["price"] == "10.00"  # numbers are left alone


def test_only_editors_may_export(app, sql):
    sql.product("Lamp", category_id=sql.category("Lighting"))
    anonymous = app.test_client()
    response = anonymous.get("/editor/products/export.csv")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    htmx = anonymous.get("/editor/products/export.csv", headers={"HX-Request": "true"})
    assert htmx.status_code in (401, 403) and htmx.mimetype != "text/csv"


def test_the_table_links_to_the_export_of_its_own_filter(editor, sql):
    category = sql.category("Lighting")
    lamp = sql.product("Brass Lamp", category_id=category, is_active=False)
    sql.product("Brass Lamp Two", category_id=category)
    for htmx in (False, True):
        html = editor.get("/editor/products?q=brass&status=inactive&page=1",
                          htmx=htmx).get_data(as_text=True)
        (link,) = parse(html).select("a[download]")
        assert "as CSV" in link.text
        href = link.get("href") or ""
        assert urlsplit(href).path == "/editor/products/export.csv"
        assert parse_qs(urlsplit(href).query) == {"q": ["brass"], "status": ["inactive"]}
        assert [row["id"] for row in read_csv(editor.get(href))] == [str(lamp)]


def test_a_cell_that_starts_with_the_text_marker_gets_one_more(editor, sql):
    """The import removes one leading ``'`` (the marker), so an export must add one to a cell
    that already starts with it, or "'=x" would come back as "=x"."""
    sql.product("'Tis the lamp", category_id=sql.category("Lighting"), slug="tis",
                description="'=not a formula")
    (row,) = read_csv(editor.get("/editor/products/export.csv"))
    assert (row["name"], row["description"]) == ("''Tis the lamp", "''=not a formula")
