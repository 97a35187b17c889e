"""The table's row links are the URLs Flask builds, for every row, though built once per
request: same paths, same query strings, under a script root too."""

from __future__ import annotations

import pytest
from flask import url_for

from app.editor.row_urls import RowLinks, row_url

CASES = [
    ("editor.edit_row", {}),
    ("editor.edit_row", {"next": "/editor/products?q=oak&page=2"}),
    ("editor.row", {"live": 1}),
    ("editor.deactivate", {"_method": "POST"}),
    ("editor.badge", {"place": "row"}),
    ("editor.history", {}),
]


@pytest.mark.parametrize("root", ["", "/shop"])
def test_every_row_gets_the_url_flask_builds_for_its_id(app, root):
    with app.test_request_context("/editor/products", base_url=f"http://localhost{root}"):
        for endpoint, values in CASES:
            for product_id in (1, 42, 9_000_000_001, 8_765_432_109_876_543):
                expected = url_for(endpoint, product_id=product_id, **values)
                assert row_url(endpoint, product_id, **values) == expected
                assert expected.startswith(f"{root}/editor/products/{product_id}")


@pytest.mark.parametrize("back", [None, "/editor/products?q=a%26b&page=3"])
def test_a_rows_links_are_flasks_urls(app, back):
    with app.test_request_context("/editor/products"):
        for product_id in (5, 123456):
            links = RowLinks(product_id, back)
            for name, (endpoint, values) in RowLinks.FIXED.items():
                assert getattr(links, name) == url_for(endpoint, product_id=product_id,
                                                       **dict(values))
            assert links.edit_page == url_for("editor.edit_row", product_id=product_id,
                                              next=back)


def test_an_id_that_is_not_a_plain_integer_goes_through_flask(app):
    with app.test_request_context("/editor/products"):
        assert row_url("editor.history", 7) == "/editor/products/7/history"
        assert row_url("editor.history", True) == url_for("editor.history", product_id=True)


def test_the_table_renders_them(editor, sql):
    lamp = sql.product("Brass Lamp", category_id=sql.category("Lighting"))
    html = editor.get("/editor/products").get_data(as_text=True)
    for path in (f"/editor/products/{lamp}/edit", f"/editor/products/{lamp}/row?live=1",
                 f"/editor/products/{lamp}/history", f"/editor/products/{lamp}/images"):
        assert f'"{path}' in html
