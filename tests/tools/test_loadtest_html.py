"""The load test reads the pages the app really renders: product links, rows and their
versions, the CSRF token and a row form's fields."""

from __future__ import annotations

from loadtest.html import csrf_token, form_fields, product_slugs, rows
from tests.support.clients import sign_in_client
from tests.support.html import csrf_token as page_csrf_token


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
    # The token this page carries (each render signs the session's token anew, with the
    # second it was made in, so two renders' tokens differ across a second boundary).
    token = csrf_token(table)
    assert token and token == page_csrf_token(table)

    edit = editor.get(f"/editor/products/{lamp}/edit", htmx=True).get_data(as_text=True)
    fields = form_fields(edit)
    assert fields["name"] == "Brass Lamp" and fields["price"] == "12.50"
    assert fields["version"] == "1" and fields["category_id"] == str(lighting)
    # The journey's save: the form's fields as read, with the token read from the table page.
    fields["price"] = "13.00"
    saved = editor.client.put(f"/editor/products/{lamp}", data=fields,
                              headers={"HX-Request": "true", "X-CSRFToken": token})
    assert saved.status_code == 200, saved.get_data(as_text=True)[:500]
    assert rows(saved.get_data(as_text=True)) == {lamp: 2}


def test_the_editor_journeys_image_upload_is_the_one_the_page_sends(app, sql):
    """The load's upload: the panel's upload form read as the journey reads it, its
    hand-made multipart body accepted (201) and applied once when double-sent."""
    import random

    from loadtest.uploads import UPLOAD_FORM, multipart, small_png

    lamp = sql.product("Brass Lamp", category_id=sql.category("Lighting"))
    sql.user("ed@example.com", role="editor")
    editor = sign_in_client(app, "ed@example.com")
    panel = editor.get(f"/editor/products/{lamp}/images", htmx=True).get_data(as_text=True)
    fields = form_fields(UPLOAD_FORM.search(panel).group(0))
    body, content_type = multipart(
        {"command_key": fields["command_key"], "alt": "Load test image 1"},
        ("image", "load.png", small_png(random.Random(1)), "image/png"))
    for _ in range(2):
        response = editor.client.post(f"/editor/products/{lamp}/images", data=body,
                                      headers={"HX-Request": "true", "Content-Type": content_type,
                                               "X-CSRFToken": editor.refresh_csrf()})
        assert response.status_code == 201, response.get_data(as_text=True)[:500]
    assert response.headers["Idempotent-Replayed"] == "true"
    assert sql.scalar("SELECT count(*) FROM product_images") == 1
