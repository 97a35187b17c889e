"""A row save after the session ended (signed out in another tab, or the session revoked) says
so and lets the editor sign in again in the row without losing what they typed; the password is
never sent back; signing in brings the typed values back into the row form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.clients import PASSWORD
from tests.support.html import parse

from .conftest import field_value


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5)


def revoke(editor, sql):
    """The page was loaded (its CSRF token in hand), then the session was ended elsewhere."""
    editor.refresh_csrf()
    sql.execute("UPDATE users SET session_generation = session_generation + 1")


def typed(category, **changes):
    data = {"version": "1", "name": "Brass Lamp Deluxe", "price": "12.50", "stock": "5",
            "category_id": str(category), "is_active": "y", "brand": "Halden <b>",
            "next": "/editor/products?q=brass"}
    data.update(changes)
    return data


def sign_in_row(response, product_id):
    html = response.get_data(as_text=True)
    row = parse(html).find("tr", id=f"product-{product_id}")
    assert row is not None, html[:1500]
    return row


def hidden_values(row) -> dict[str, str]:
    return {field.get("name"): field.get("value")
            for field in row.find_all("input", type="hidden")}


def test_a_revoked_session_gets_a_sign_in_row_with_the_typed_values(editor, sql, lamp,
                                                                    category):
    revoke(editor, sql)
    response = editor.put(f"/editor/products/{lamp}", typed(category))
    assert response.status_code == 401
    assert "HX-Retarget" not in response.headers  # in place: the row itself
    row = sign_in_row(response, lamp)
    assert "Your session has ended" in row.text and "form has expired" not in row.text
    values = hidden_values(row)
    assert values["name"] == "Brass Lamp Deluxe" and values["price"] == "12.50"
    assert values["brand"] == "Halden <b>" and values["version"] == "1"
    assert values["next"] == "/editor/products?q=brass"
    assert "csrf_token" in values and row.find("input", type="password").get("value") is None
    assert sql.scalar("SELECT price FROM products") == Decimal("10.00")


def test_signed_out_in_another_tab_the_csrf_failure_is_a_sign_in_row_too(editor, sql, lamp,
                                                                          category):
    stale = editor.csrf or editor.refresh_csrf()
    editor.client.post("/auth/logout", data={"csrf_token": stale})  # the other tab
    response = editor.put(f"/editor/products/{lamp}", typed(category),
                          headers={"X-CSRFToken": stale}, csrf=False)
    assert response.status_code == 401
    row = sign_in_row(response, lamp)
    assert "Your session has ended" in row.text
    assert "expired or did not come from this site" not in response.get_data(as_text=True)


def test_signing_in_in_the_row_brings_the_values_back(editor, sql, lamp, category):
    revoke(editor, sql)
    row = sign_in_row(editor.put(f"/editor/products/{lamp}", typed(category)), lamp)
    form = row.find("form")
    data = {**hidden_values(row), "email": "ed@example.com", "password": PASSWORD}
    response = editor.post(form.get("hx-post"), data, csrf=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_value(html, lamp, "name") == "Brass Lamp Deluxe"
    assert field_value(html, lamp, "price") == "12.50"
    assert field_value(html, lamp, "brand") == "Halden <b>"
    assert 'name="version" value="1"' in html
    assert "Signed in again as ed@example.com" in html and "data-csrf-token" in html
    assert PASSWORD not in html
    # Saving with the fresh token from the response now works.
    token = parse(html).find("input", name="csrf_token").get("value")
    saved = editor.put(f"/editor/products/{lamp}", typed(category), csrf=False,
                       headers={"X-CSRFToken": token})
    assert saved.status_code == 200, saved.get_data(as_text=True)[:500]
    assert sql.scalar("SELECT price FROM products") == Decimal("12.50")


def test_a_wrong_password_keeps_the_values_and_never_echoes_it(editor, sql, lamp, category):
    revoke(editor, sql)
    row = sign_in_row(editor.put(f"/editor/products/{lamp}", typed(category)), lamp)
    data = {**hidden_values(row), "email": "ed@example.com", "password": "wrong secret 42"}
    response = editor.post(row.find("form").get("hx-post"), data, csrf=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    again = sign_in_row(response, lamp)
    assert "do not match an active account" in again.text
    assert hidden_values(again)["name"] == "Brass Lamp Deluxe"
    assert again.find("input", type="email").get("value") == "ed@example.com"
    assert "wrong secret 42" not in html


def test_a_new_product_row_is_kept_too(editor, sql, category):
    revoke(editor, sql)
    response = editor.post("/editor/products", typed(category, name="Desk Lamp"))
    row = sign_in_row(response, "new")
    data = {**hidden_values(row), "email": "ed@example.com", "password": PASSWORD}
    back = editor.post(row.find("form").get("hx-post"), data, csrf=False)
    assert back.status_code == 200
    assert field_value(back.get_data(as_text=True), "new", "name") == "Desk Lamp"
    assert sql.scalar("SELECT count(*) FROM products") == 0


def test_without_htmx_the_sign_in_row_is_a_page(editor, sql, lamp, category):
    revoke(editor, sql)
    response = editor.post(f"/editor/products/{lamp}", typed(category), htmx=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and "<!doctype html>" in html
    form = sign_in_row(response, lamp).find("form")
    assert form.get("method") == "post" and form.get("action") == \
        f"/editor/products/{lamp}/resume"


def test_other_requests_say_the_session_ended_with_a_link_to_sign_in(editor, sql, lamp):
    revoke(editor, sql)
    response = editor.patch(f"/editor/products/{lamp}/stock", {"stock": "3", "version": "1"},
                            headers={"HX-Current-URL": "http://localhost/editor/products?q=x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and response.headers["HX-Retarget"] == "#messages"
    link = parse(html).find("a")
    assert "Your session has ended" in html
    assert link.get("href") == "/auth/login?next=/editor/products?q%3Dx"


def test_a_signed_in_editor_with_a_bad_token_still_gets_the_csrf_message(editor, lamp,
                                                                         category):
    response = editor.put(f"/editor/products/{lamp}", typed(category), csrf=False,
                          headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert "expired or did not come from this site" in response.get_data(as_text=True)
