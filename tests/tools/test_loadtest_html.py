"""The load test reads the pages the app really renders: product links, rows and their
versions, the CSRF token and a row form's fields."""

from __future__ import annotations

from loadtest.html import csrf_token, form_fields, product_slugs, rows
from tests.support.clients import sign_in_client


def test_the_journeys_read_the_catalog_and_the_editor_table(app, client, sql):
    lighting = sql.category("Lighting")
    lamp = sql.product("Brass Lamp", category_id=lighting, price="12.50", stock=3)
    chair = sql.product("Oak Chair", category_id=lighting, price="40.00", stock=1)
    sql.execute("UPDATE products SET version = 4 WHERE id = %s", chair)

    catalog = client.get("/products?sort=name").get_data(as_text=True)
    assert product_slugs(catalog) == ["brass-lamp", "oak-chair"]

    sql.user("ed@example.com", role="editor")
    editor = sign_in_client(app, "ed@example.com")
    table = editor.get("/editor/products").get_data(as_text=True)
    assert rows(table) == {lamp: 1, chair: 4}
    assert csrf_token(table) == editor.refresh_csrf()

    edit = editor.get(f"/editor/products/{lamp}/edit", htmx=True).get_data(as_text=True)
    fields = form_fields(edit)
    assert fields["name"] == "Brass Lamp" and fields["price"] == "12.50"
    assert fields["version"] == "1" and fields["category_id"] == str(lighting)
