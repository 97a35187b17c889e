"""The editor table at /editor/products: full page and htmx partial, filters, sorting, pages."""

from __future__ import annotations

import pytest

from app.editor.forms import BulkForm
from tests.support.html import parse

from .conftest import row_html


@pytest.fixture
def catalog(sql):
    lighting = sql.category("Lighting")
    lamps = sql.category("Floor Lamps", slug="lighting-floor-lamps", parent_id=lighting)
    garden = sql.category("Garden")
    ids = {
        "brass": sql.product("Brass Floor Lamp", category_id=lamps, price="120.00", stock=3,
                             created_at="2026-01-03", attributes={"brand": "Halden"}),
        "hidden": sql.product("Hidden Oak Lamp", category_id=lighting, price="80.00",
                              stock=0, is_active=False, created_at="2026-01-02"),
        "trowel": sql.product("Steel Trowel", category_id=garden, price="15.50", stock=0,
                              created_at="2026-01-01"),
    }
    return ids


def names(html: str) -> list[str]:
    return [cell.text for cell in parse(html).select("td.editable.name")]


def test_the_full_page_has_the_table_filters_bulk_form_and_csrf_meta(editor, catalog):
    response = editor.get("/editor/products")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<!doctype html>" in html and '<meta name="csrf-token" content="' in html
    assert 'id="filters"' in html and 'id="bulk-form"' in html
    assert names(html) == ["Brass Floor Lamp", "Hidden Oak Lamp", "Steel Trowel"]
    assert "3 products" in html
    assert "editor.js" in html and "editor.css" in html
    assert "HX-Request" in response.headers["Vary"]
    actions = parse(html).find("select", id="bulk-action").find_all("option")
    assert {option.get("value"): option.text for option in actions} == BulkForm.ACTIONS


def test_htmx_gets_only_the_table_region(editor, catalog):
    response = editor.get("/editor/products?status=active", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<!doctype html>" not in html and 'id="filters"' not in html
    assert names(html) == ["Brass Floor Lamp", "Steel Trowel"]
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(("query", "expected"), [
    ("status=inactive", ["Hidden Oak Lamp"]),
    ("stock=out", ["Hidden Oak Lamp", "Steel Trowel"]),
    ("stock=in", ["Brass Floor Lamp"]),
    ("category=lighting", ["Brass Floor Lamp", "Hidden Oak Lamp"]),
    ("category=lighting-floor-lamps", ["Brass Floor Lamp"]),
    ("q=lamp", ["Brass Floor Lamp", "Hidden Oak Lamp"]),
    ("q=trowel&status=inactive", []),
    ("sort=price_asc", ["Steel Trowel", "Hidden Oak Lamp", "Brass Floor Lamp"]),
    ("brand=Halden", ["Brass Floor Lamp"]),
    ("min_price=20&max_price=100", ["Hidden Oak Lamp"]),
    ("max_price=15.50", ["Steel Trowel"]),
    ("min_price=abc&max_price=-1", ["Brass Floor Lamp", "Hidden Oak Lamp", "Steel Trowel"]),
    ("sort=name", ["Brass Floor Lamp", "Hidden Oak Lamp", "Steel Trowel"]),
    ("status=bogus&sort=bogus&stock=bogus&page=x", ["Brass Floor Lamp", "Hidden Oak Lamp",
                                                    "Steel Trowel"]),
])
def test_filters_and_sorts(editor, catalog, query, expected):
    html = editor.get(f"/editor/products?{query}", htmx=True).get_data(as_text=True)
    assert names(html) == expected
    if not expected:
        assert "No products match." in html


def test_search_text_is_a_parameter_not_sql(editor, catalog):
    response = editor.get("/editor/products?q=%27%3B+drop+table+products%3B--+%25_", htmx=True)
    assert response.status_code == 200
    assert names(response.get_data(as_text=True)) == []


def test_pages_of_fifty_with_links_that_keep_the_filter(editor, sql):
    category = sql.category("Lighting")
    for n in range(53):
        sql.product(f"Lamp {n:02d}", category_id=category, created_at=f"2026-01-01 00:{n:02d}")
    first = editor.get("/editor/products?status=active", htmx=True).get_data(as_text=True)
    assert len(names(first)) == 50 and "page 1 of 2" in first
    assert 'href="/editor/products?status=active&amp;page=2"' in first
    second = editor.get("/editor/products?status=active&page=2", htmx=True)
    assert names(second.get_data(as_text=True)) == ["Lamp 02", "Lamp 01", "Lamp 00"]


def test_rows_show_values_escaped(editor, sql):
    category = sql.category("Lighting")
    product = sql.product("<script>alert(1)</script> Lamp", category_id=category,
                          attributes={"brand": "<b>Bold</b>"})
    html = row_html(editor.get("/editor/products", htmx=True).get_data(as_text=True), product)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt;" in html


def test_the_bulk_form_knows_the_current_filter(editor, catalog):
    html = editor.get("/editor/products?status=inactive&q=oak", htmx=True).get_data(as_text=True)
    assert 'form="bulk-form" name="filter_status" value="inactive"' in html
    assert 'form="bulk-form" name="filter_q" value="oak"' in html


def test_editor_root_redirects_to_the_table(editor):
    response = editor.get("/editor/")
    assert response.status_code == 302 and response.headers["Location"] == "/editor/products"
