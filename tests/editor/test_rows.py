"""Editing rows in place: display/edit partials and pages, save, validation, conflicts between
two sessions, single-field edits, soft delete with undo, duplicate, create, CSRF."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.clients import EditorClient, sign_in_client
from tests.support.html import parse

from .conftest import conflict_rows, field_error, field_value, hidden_values, row_html


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5,
                       attributes={"brand": "Halden", "colour": "black"})


def form_data(category: int, **changes) -> dict:
    data = {"version": "1", "name": "Brass Lamp", "price": "10.00", "stock": "5",
            "category_id": str(category), "is_active": "y", "brand": "Halden",
            "colour": "black", "material": "", "size": ""}
    data.update(changes)
    return data


def product_row(sql, product_id):
    return sql.one("SELECT name, price, stock, is_active, version, category_id, attributes"
                   " FROM products WHERE id = %s", product_id)


def revisions(sql, product_id):
    return sql.all("SELECT version, source, user_id, changes FROM product_revisions"
                   " WHERE product_id = %s ORDER BY version", product_id)


# -- display and edit ---------------------------------------------------------------------------

def test_edit_partial_is_a_form_row_with_the_current_values_and_version(editor, lamp):
    response = editor.get(f"/editor/products/{lamp}/edit", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<!doctype html>" not in html
    assert html.strip().startswith("<tr") and 'class="product-row editing"' in html
    assert field_value(html, lamp, "price") == "10.00"
    assert field_value(html, lamp, "brand") == "Halden"
    assert 'name="version" value="1"' in html
    assert f'hx-put="/editor/products/{lamp}"' in html
    assert "data-cancel" in html and f'hx-get="/editor/products/{lamp}/row"' in html


def test_edit_without_htmx_is_a_full_page_with_the_same_form(editor, lamp):
    html = editor.get(f"/editor/products/{lamp}/edit").get_data(as_text=True)
    assert "<!doctype html>" in html and '<meta name="csrf-token"' in html
    assert field_value(html, lamp, "name") == "Brass Lamp"


def test_display_row_partial_and_page(editor, lamp):
    partial = editor.get(f"/editor/products/{lamp}/row", htmx=True).get_data(as_text=True)
    assert partial.strip().startswith("<tr") and "10.00" in row_html(partial, lamp)
    page = editor.get(f"/editor/products/{lamp}/row").get_data(as_text=True)
    assert "<!doctype html>" in page and "10.00" in row_html(page, lamp)


def test_unknown_products_are_404_in_the_message_area(editor):
    response = editor.get("/editor/products/999/edit", htmx=True)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"


@pytest.mark.parametrize(("user", "method", "url", "message"), [
    ("editor", "GET", "/editor/products/999/row", "That product does not exist (any more)."),
    ("editor", "POST", "/editor/products/999/duplicate", "That product does not exist"),
    ("editor", "PATCH", "/editor/products/999/stock", "That product does not exist"),
    ("editor", "DELETE", "/editor/products/999", "That product does not exist"),
    ("admin", "POST", "/editor/categories/999", "That category does not exist (any more)."),
    ("admin", "POST", "/editor/users/999/active", "That user does not exist (any more)."),
])
def test_a_row_that_is_gone_is_a_404_saying_so(request, user, method, url, message):
    """Whether the view looks the row up or the service finds it gone, the editor is told."""
    client = request.getfixturevalue(user)
    response = client.send(method, url, {"version": "1", "stock": "2", "is_active": "1",
                                         "name": "Renamed"}, htmx=True)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("method,url", [("GET", "/editor/products/99999999999999999999/edit"),
                                        ("GET", "/editor/products/0/row"),
                                        ("POST", "/editor/categories/3000000000")])
def test_ids_out_of_range_are_404_not_errors(admin, method, url):
    """Each route with the method it serves: an id no row can have is simply not found."""
    assert admin.send(method, url, {"name": "Renamed"}, htmx=False).status_code == 404


# -- save ---------------------------------------------------------------------------------------

def test_saving_returns_the_display_row_and_records_an_inline_revision(editor, sql, lamp,
                                                                         category):
    response = editor.put(f"/editor/products/{lamp}",
                          form_data(category, price="12.50", colour="white"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    row = row_html(html, lamp)
    assert "12.50" in row and "white" in row and "editing" not in row
    assert product_row(sql, lamp)["price"] == Decimal("12.50")
    [revision] = revisions(sql, lamp)
    editor_id = sql.scalar("SELECT id FROM users WHERE email = 'ed@example.com'")
    assert revision["source"] == "inline" and revision["user_id"] == editor_id
    assert revision["changes"] == {"price": {"before": "10.00", "after": "12.50"},
                                   "attributes.colour": {"before": "black", "after": "white"}}


def test_unchecking_active_and_clearing_an_attribute_are_saved(editor, sql, lamp, category):
    data = form_data(category, brand="")
    del data["is_active"]
    assert editor.put(f"/editor/products/{lamp}", data).status_code == 200
    row = product_row(sql, lamp)
    assert row["is_active"] is False and row["attributes"] == {"colour": "black"}


def test_a_plain_form_post_saves_and_redirects(editor, sql, lamp, category):
    response = editor.post(f"/editor/products/{lamp}", form_data(category, stock="9"),
                           htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == "/editor/products"
    assert product_row(sql, lamp)["stock"] == 9
    assert "Saved “Brass Lamp”." in editor.get("/editor/products").get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "Enter a name."),
    ("name", "x" * 201, "Name can be at most 200 characters."),
    ("name", "Lamp\x00", "Name cannot contain control characters."),
    ("price", "", "Enter a price."),
    ("price", "abc", "Enter a price as a number, like 12.50."),
    ("price", "-1", "Price cannot be negative."),
    ("price", "100000000", "Price cannot be more than 99,999,999.99."),
    ("price", "1.234", "Price can have at most two decimal places."),
    ("stock", "", "Enter a stock quantity."),
    ("stock", "2.5", "Stock must be a whole number."),
    ("stock", "-3", "Stock cannot be negative."),
    ("stock", "3000000000", "Stock cannot be more than 2,147,483,647."),
    ("category_id", "", "Choose a category."),
    ("category_id", "9999", "That category does not exist."),
    ("brand", "b" * 101, "Brand can be at most 100 characters."),
    ("colour", "c" * 101, "Colour can be at most 100 characters."),
    ("material", "m" * 101, "Material can be at most 100 characters."),
    ("size", "s" * 101, "Size can be at most 100 characters."),
])
def test_each_rule_shows_its_message_next_to_the_field_and_keeps_the_typed_values(
        editor, sql, lamp, category, field, value, message):
    data = form_data(category, **{"name": "Renamed Lamp", field: value})
    response = editor.put(f"/editor/products/{lamp}", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.strip().startswith("<tr") and "editing" in row_html(html, lamp)
    assert field_error(html, lamp, field) == message
    if field not in ("name", "category_id"):
        assert field_value(html, lamp, "name") == "Renamed Lamp"
    if field != "category_id":
        assert field_value(html, lamp, field) == value
    assert f'aria-describedby="err-{lamp}-{field}"' in html
    assert product_row(sql, lamp)["version"] == 1 and revisions(sql, lamp) == []


def test_several_errors_are_shown_at_once(editor, lamp, category):
    html = editor.put(f"/editor/products/{lamp}",
                      form_data(category, name=" ", price="x", stock="-1")).get_data(as_text=True)
    assert field_error(html, lamp, "name") == "Enter a name."
    assert field_error(html, lamp, "price") == "Enter a price as a number, like 12.50."
    assert field_error(html, lamp, "stock") == "Stock cannot be negative."


def test_a_form_without_version_is_refused(editor, sql, lamp, category):
    data = form_data(category, price="99.00")
    del data["version"]
    response = editor.put(f"/editor/products/{lamp}", data)
    assert response.status_code == 400
    assert "missing the product" in response.get_data(as_text=True)
    assert product_row(sql, lamp)["price"] == Decimal("10.00")


def test_a_non_htmx_validation_error_is_a_full_page_with_the_form(editor, lamp, category):
    response = editor.post(f"/editor/products/{lamp}", form_data(category, price="-5"),
                           htmx=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<!doctype html>" in html
    assert field_error(html, lamp, "price") == "Price cannot be negative."


# -- CSRF ---------------------------------------------------------------------------------------

def test_without_a_csrf_token_nothing_changes(editor, sql, lamp, category):
    for send in (lambda: editor.put(f"/editor/products/{lamp}", form_data(category, price="1"),
                                    csrf=False),
                 lambda: editor.patch(f"/editor/products/{lamp}/stock",
                                      {"stock": "0", "version": "1"}, csrf=False),
                 lambda: editor.delete(f"/editor/products/{lamp}?version=1", csrf=False),
                 lambda: editor.post("/editor/products", form_data(category), csrf=False)):
        response = send()
        assert response.status_code == 400
        assert response.headers["HX-Retarget"] == "#messages"
        assert "did not come from this site" in response.get_data(as_text=True)
    assert product_row(sql, lamp)["version"] == 1
    assert sql.scalar("SELECT count(*) FROM products") == 1


def test_a_wrong_csrf_token_is_refused(editor, sql, lamp, category):
    response = editor.put(f"/editor/products/{lamp}", form_data(category, price="1"),
                          headers={"X-CSRFToken": "forged"}, csrf=False)
    assert response.status_code == 400
    assert product_row(sql, lamp)["price"] == Decimal("10.00")


def test_another_sessions_token_is_refused(app, sql, editor, lamp, category):
    sql.user("other@example.com")
    other = sign_in_client(app, "other@example.com")
    response = editor.put(f"/editor/products/{lamp}", form_data(category, price="1"),
                          headers={"X-CSRFToken": other.refresh_csrf()}, csrf=False)
    assert response.status_code == 400


# -- conflicts between two sessions -------------------------------------------------------------

@pytest.fixture
def second_editor(app, sql) -> EditorClient:
    sql.user("second@example.com")
    return sign_in_client(app, "second@example.com")


def test_the_second_save_from_an_old_version_asks_only_about_the_field_both_changed(
        editor, second_editor, sql, lamp, category):
    # Both open the row at version 1; both change the price, only the first the stock.
    editor.get(f"/editor/products/{lamp}/edit", htmx=True)
    second_editor.get(f"/editor/products/{lamp}/edit", htmx=True)
    assert second_editor.put(f"/editor/products/{lamp}",
                             form_data(category, price="15.00")).status_code == 200
    response = editor.put(f"/editor/products/{lamp}", form_data(category, price="12.00",
                                                                stock="7"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed" in html
    assert conflict_rows(html) == {"price": ("Keep mine: 12.00", "Keep theirs: 15.00 "
                                             "(second@example.com)")}
    resend = hidden_values(html, f"conflict-form-{lamp}")
    assert resend["version"] == "2"  # the choice is sent against the current version
    assert resend["stock"] == "7" and "price" not in resend  # my other change goes along
    assert "Your other changes (Stock) will be saved" in html
    assert product_row(sql, lamp)["price"] == Decimal("15.00")
    assert product_row(sql, lamp)["stock"] == 5
    assert [r["source"] for r in revisions(sql, lamp)] == ["inline"]


def test_disjoint_changes_from_an_old_version_merge_and_say_so(
        editor, second_editor, sql, lamp, category):
    assert second_editor.put(f"/editor/products/{lamp}",
                             form_data(category, brand="Nordlys")).status_code == 200
    response = editor.put(f"/editor/products/{lamp}", form_data(category, price="12.00"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "12.00" in row_html(html, lamp) and "Nordlys" in row_html(html, lamp)
    assert "Merged with second@example.com’s change to Brand." in html
    assert 'role="status"' in html
    row = product_row(sql, lamp)
    assert row["price"] == Decimal("12.00") and row["attributes"]["brand"] == "Nordlys"
    assert row["version"] == 3
    # History records only what this editor changed: never a reversal of the brand.
    assert revisions(sql, lamp)[-1]["changes"] == {"price": {"before": "10.00",
                                                             "after": "12.00"}}


def test_the_same_value_on_both_sides_is_no_conflict(editor, second_editor, sql, lamp,
                                                     category):
    second_editor.put(f"/editor/products/{lamp}", form_data(category, price="12.00"))
    response = editor.put(f"/editor/products/{lamp}", form_data(category, price="12.00",
                                                                name="Brass Lamp XL"))
    assert response.status_code == 200
    assert product_row(sql, lamp)["name"] == "Brass Lamp XL"
    assert revisions(sql, lamp)[-1]["changes"] == {"name": {"before": "Brass Lamp",
                                                            "after": "Brass Lamp XL"}}


def test_keep_mine_applies_only_my_fields_and_keeps_the_colleagues_other_field(
        editor, second_editor, sql, lamp, category):
    # The case: they change price and brand; I change name and price.
    second_editor.put(f"/editor/products/{lamp}", form_data(category, price="15.00",
                                                            brand="Nordlys"))
    conflict = editor.put(f"/editor/products/{lamp}", form_data(category, price="12.00",
                                                                name="Brass Lamp XL"))
    assert conflict.status_code == 409 and list(conflict_rows(conflict.text)) == ["price"]
    resend = hidden_values(conflict.text, f"conflict-form-{lamp}")
    response = editor.put(f"/editor/products/{lamp}", {**resend, "price": "12.00"})  # mine
    assert response.status_code == 200
    row = product_row(sql, lamp)
    assert (row["name"], row["price"], row["attributes"]["brand"]) == (
        "Brass Lamp XL", Decimal("12.00"), "Nordlys")
    mine = revisions(sql, lamp)[-1]
    assert mine["user_id"] != revisions(sql, lamp)[-2]["user_id"]
    assert set(mine["changes"]) == {"name", "price"}  # never the brand


def test_keep_theirs_for_the_conflict_still_saves_my_other_change(
        editor, second_editor, sql, lamp, category):
    second_editor.put(f"/editor/products/{lamp}", form_data(category, price="15.00"))
    conflict = editor.put(f"/editor/products/{lamp}", form_data(category, price="12.00",
                                                                stock="7"))
    resend = hidden_values(conflict.text, f"conflict-form-{lamp}")
    response = editor.put(f"/editor/products/{lamp}", {**resend, "price": "15.00"})
    assert response.status_code == 200
    row = product_row(sql, lamp)
    assert (row["price"], row["stock"]) == (Decimal("15.00"), 7)
    assert revisions(sql, lamp)[-1]["changes"] == {"stock": {"before": 5, "after": 7}}


def test_after_a_conflict_the_editor_can_overwrite_with_the_new_version(
        editor, second_editor, sql, lamp, category):
    second_editor.put(f"/editor/products/{lamp}", form_data(category, price="15.00"))
    editor.put(f"/editor/products/{lamp}", form_data(category, price="12.00"))
    response = editor.put(f"/editor/products/{lamp}",
                          form_data(category, price="12.00", version="2"))
    assert response.status_code == 200
    assert product_row(sql, lamp)["price"] == Decimal("12.00")
    assert product_row(sql, lamp)["version"] == 3


def test_after_a_conflict_the_editor_can_take_theirs(editor, second_editor, sql, lamp,
                                                     category):
    second_editor.put(f"/editor/products/{lamp}", form_data(category, price="15.00"))
    conflict = editor.put(f"/editor/products/{lamp}", form_data(category, price="12.00"))
    assert f'hx-get="/editor/products/{lamp}/row"' in conflict.get_data(as_text=True)
    row = row_html(editor.get(f"/editor/products/{lamp}/row", htmx=True)
                   .get_data(as_text=True), lamp)
    assert "15.00" in row and product_row(sql, lamp)["version"] == 2


def test_a_conflict_without_htmx_is_a_page(editor, second_editor, lamp, category):
    second_editor.put(f"/editor/products/{lamp}", form_data(category, price="15.00"))
    response = editor.post(f"/editor/products/{lamp}", form_data(category, price="12.00"),
                           htmx=False)
    assert response.status_code == 409
    assert "<!doctype html>" in response.get_data(as_text=True)


# -- single-field edits -------------------------------------------------------------------------

def test_changing_stock_inline(editor, sql, lamp):
    response = editor.patch(f"/editor/products/{lamp}/stock", {"stock": "0", "version": "1"})
    assert response.status_code == 200
    assert 'value="0"' in row_html(response.get_data(as_text=True), lamp)
    assert product_row(sql, lamp)["stock"] == 0
    assert revisions(sql, lamp)[0]["changes"] == {"stock": {"before": 5, "after": 0}}


@pytest.mark.parametrize(("value", "message"), [
    ("-2", "Stock cannot be negative."), ("many", "Stock must be a whole number."),
    ("", "Enter a stock quantity.")])
def test_a_bad_inline_stock_shows_the_error_in_the_row(editor, sql, lamp, value, message):
    response = editor.patch(f"/editor/products/{lamp}/stock", {"stock": value, "version": "1"})
    row = row_html(response.get_data(as_text=True), lamp)
    assert response.status_code == 422
    assert message in row and f'value="{value}"' in row and 'aria-invalid="true"' in row
    assert product_row(sql, lamp)["stock"] == 5


def test_inline_stock_from_an_old_version_is_a_conflict(editor, second_editor, sql, lamp):
    second_editor.patch(f"/editor/products/{lamp}/stock", {"stock": "1", "version": "1"})
    response = editor.patch(f"/editor/products/{lamp}/stock", {"stock": "9", "version": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert conflict_rows(html) == {"stock": ("Keep mine: 9",
                                             "Keep theirs: 1 (second@example.com)")}
    assert f'hx-patch="/editor/products/{lamp}/stock"' in html
    assert product_row(sql, lamp)["stock"] == 1


def test_inline_stock_from_an_old_version_merges_with_another_field(editor, second_editor,
                                                                    sql, lamp):
    second_editor.patch(f"/editor/products/{lamp}/active", {"is_active": "0", "version": "1"})
    response = editor.patch(f"/editor/products/{lamp}/stock", {"stock": "9", "version": "1"})
    assert response.status_code == 200
    assert "Merged with second@example.com’s change to Active." in response.text
    row = product_row(sql, lamp)
    assert (row["stock"], row["is_active"], row["version"]) == (9, False, 3)


def test_toggling_active_inline(editor, sql, lamp):
    response = editor.patch(f"/editor/products/{lamp}/active", {"is_active": "0",
                                                                 "version": "1"})
    row = row_html(response.get_data(as_text=True), lamp)
    assert response.status_code == 200 and "inactive" in row and 'aria-pressed="false"' in row
    assert product_row(sql, lamp)["is_active"] is False
    bad = editor.patch(f"/editor/products/{lamp}/active", {"is_active": "maybe", "version": "2"})
    assert bad.status_code == 400


# -- delete (deactivate), undo, duplicate -------------------------------------------------------

def test_delete_is_a_soft_delete_with_an_undo(editor, sql, lamp):
    response = editor.delete(f"/editor/products/{lamp}?version=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    row = parse(row_html(html, lamp))
    assert "inactive" in row.find("tr").get("class")
    # The notice and its Undo are in the row, where the editor is (not at the top of the page).
    notice = row.find(class_="row-notice")
    assert notice.get("role") == "status" and "is now hidden from shoppers" in notice.text
    undo = notice.find("form")
    assert undo.get("hx-post") == f"/editor/products/{lamp}/reactivate"
    assert undo.find("input", name="version").get("value") == "2"
    assert undo.find("button", class_="undo").has("data-focus-me")
    assert "#messages" not in html
    assert product_row(sql, lamp)["is_active"] is False
    assert sql.scalar("SELECT count(*) FROM products") == 1
    undo = editor.post(f"/editor/products/{lamp}/reactivate", {"version": "2"})
    assert undo.status_code == 200 and "shown to shoppers again" in undo.get_data(as_text=True)
    assert product_row(sql, lamp)["is_active"] is True
    assert [r["changes"]["is_active"]["after"] for r in revisions(sql, lamp)] == [False, True]


def test_the_delete_button_asks_for_confirmation(editor, lamp):
    html = editor.get(f"/editor/products/{lamp}/row", htmx=True).get_data(as_text=True)
    assert 'hx-confirm="Delete “Brass Lamp”?' in html


def test_undo_after_someone_else_changed_another_field_merges(editor, second_editor, sql,
                                                               lamp):
    editor.delete(f"/editor/products/{lamp}?version=1")
    second_editor.patch(f"/editor/products/{lamp}/stock", {"stock": "2", "version": "2"})
    response = editor.post(f"/editor/products/{lamp}/reactivate", {"version": "2"})
    assert response.status_code == 200
    row = product_row(sql, lamp)
    assert (row["is_active"], row["stock"]) == (True, 2)


def test_undo_after_active_went_back_and_forth_applies(editor, second_editor, sql,
                                                       lamp):
    editor.delete(f"/editor/products/{lamp}?version=1")
    second_editor.patch(f"/editor/products/{lamp}/active", {"is_active": "1", "version": "2"})
    second_editor.patch(f"/editor/products/{lamp}/active", {"is_active": "0", "version": "3"})
    # Active went back to what the undo started from: a real change by them (versions 3, 4)
    # that leaves the value as it was is not a change to merge against: the undo applies.
    response = editor.post(f"/editor/products/{lamp}/reactivate", {"version": "2"})
    assert response.status_code == 200
    assert product_row(sql, lamp)["is_active"] is True


def test_delete_from_an_old_version_merges_with_a_stock_change(editor, sql, lamp):
    editor.patch(f"/editor/products/{lamp}/stock", {"stock": "2", "version": "1"})
    response = editor.delete(f"/editor/products/{lamp}?version=1")
    assert response.status_code == 200
    row = product_row(sql, lamp)
    assert (row["is_active"], row["stock"]) == (False, 2)


def test_duplicate_inserts_an_inactive_copy_row(editor, sql, lamp):
    response = editor.post(f"/editor/products/{lamp}/duplicate")
    html = response.get_data(as_text=True)
    copy = sql.one("SELECT id, name, slug, is_active FROM products WHERE id <> %s", lamp)
    assert response.status_code == 201
    assert copy["name"] == "Brass Lamp (copy)" and copy["slug"] == "brass-lamp-copy"
    assert copy["is_active"] is False
    assert "Brass Lamp (copy)" in row_html(html, copy["id"]) and "Created" in html
    assert revisions(sql, copy["id"])[0]["source"] == "duplicate"


# -- create -------------------------------------------------------------------------------------

def test_the_new_row_form_partial_and_page(editor, category):
    partial = editor.get("/editor/products/new", htmx=True).get_data(as_text=True)
    assert 'id="product-new"' in partial and 'hx-post="/editor/products"' in partial
    assert "Choose a category…" in partial and "data-discard-row" in partial
    page = editor.get("/editor/products/new").get_data(as_text=True)
    assert "<!doctype html>" in page and 'id="product-new"' in page


def test_creating_a_product_inline(editor, sql, category):
    sql.product("Desk Lamp", category_id=category)
    response = editor.post("/editor/products", {
        "name": "Desk Lamp", "price": "5", "stock": "2", "category_id": str(category),
        "is_active": "y", "brand": "Solvik"})
    html = response.get_data(as_text=True)
    created = sql.one("SELECT id, slug, price, attributes FROM products WHERE slug <> "
                      "'desk-lamp'")
    assert response.status_code == 201
    assert created["slug"] == "desk-lamp-2" and created["price"] == Decimal("5.00")
    assert created["attributes"] == {"brand": "Solvik"}
    assert "5.00" in row_html(html, created["id"]) and "Created “Desk Lamp”." in html
    assert revisions(sql, created["id"])[0]["source"] == "create"


def test_creating_with_errors_keeps_the_new_row_form(editor, sql, category):
    response = editor.post("/editor/products", {"name": "Desk Lamp", "price": "-1",
                                                "stock": "1", "category_id": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="product-new"' in html
    assert field_error(html, "new", "price") == "Price cannot be negative."
    assert field_error(html, "new", "category_id") == "Choose a category."
    assert field_value(html, "new", "name") == "Desk Lamp"
    assert sql.scalar("SELECT count(*) FROM products") == 0


def test_a_stock_conflict_is_resolved_with_keep_mine(editor, second_editor, sql, lamp):
    second_editor.patch(f"/editor/products/{lamp}/stock", {"stock": "1", "version": "1"})
    conflict = editor.patch(f"/editor/products/{lamp}/stock", {"stock": "9", "version": "1"})
    resend = hidden_values(conflict.text, f"conflict-form-{lamp}")
    assert resend["version"] == "2" and "stock" not in resend  # the choice is the radio
    response = editor.patch(f"/editor/products/{lamp}/stock", {**resend, "stock": "9"})
    assert response.status_code == 200
    assert product_row(sql, lamp)["stock"] == 9
