"""Bulk actions: selected rows or every row matching the filter, one transaction, limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.html import parse


@pytest.fixture
def rows(sql, category):
    return [sql.product(f"Lamp {n}", category_id=category, price=price, is_active=n != 2,
                        stock=n)
            for n, price in enumerate(["10.00", "19.99", "0.50", "100.00"])]


def bulk(editor, action, ids=(), **fields):
    data = {"action": action, "scope": "selected", "ids": [str(i) for i in ids], **fields}
    return editor.post("/editor/products/bulk", data)


def confirm(editor, response, **extra):
    """Press "Yes" on the confirmation in ``response``: its token and nothing else."""
    assert response.status_code in (409, 428), response.get_data(as_text=True)[:500]
    token = parse(response.get_data(as_text=True)).find("input", name="confirm_token")
    return editor.post("/editor/products/bulk", {"confirm_token": token.get("value"), **extra})


def prices(sql):
    return [r["price"] for r in sql.all("SELECT price FROM products ORDER BY id")]


def test_price_percent_on_selected_rows_reports_the_count_and_refreshes_the_table(
        editor, sql, rows):
    response = bulk(editor, "price_percent", rows[:3], value="-10")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Change price by %: changed 3 of 3 products." in html
    assert '<hx-partial hx-target="#messages"' in html and 'id="product-rows"' in html
    assert prices(sql) == [Decimal("9.00"), Decimal("17.99"), Decimal("0.45"),
                           Decimal("100.00")]


def test_price_amount_never_goes_below_zero(editor, sql, rows):
    bulk(editor, "price_amount", rows, value="-15")
    assert prices(sql) == [Decimal("0.00"), Decimal("4.99"), Decimal("0.00"), Decimal("85.00")]


def test_activate_deactivate_and_move(editor, sql, rows, category):
    garden = sql.category("Garden")
    assert "changed 1 of 4" in bulk(editor, "activate", rows).get_data(as_text=True)
    assert sql.scalar("SELECT bool_and(is_active) FROM products") is True
    # Hiding several selected rows asks first, even below the size limit.
    assert "changed 2 of 2" in confirm(editor, bulk(editor, "deactivate", rows[:2])) \
        .get_data(as_text=True)
    bulk(editor, "set_category", rows[1:], category_id=str(garden))
    assert [r["category_id"] for r in sql.all("SELECT category_id FROM products ORDER BY id")] \
        == [category, garden, garden, garden]


def test_every_bulk_change_is_in_the_history_with_who_and_source(editor, sql, rows):
    bulk(editor, "price_amount", rows[:2], value="1.5")
    history = sql.all("SELECT product_id, source, user_id, version, changes"
                      " FROM product_revisions ORDER BY product_id")
    editor_id = sql.scalar("SELECT id FROM users WHERE email = 'ed@example.com'")
    assert [h["product_id"] for h in history] == rows[:2]
    assert {h["source"] for h in history} == {"bulk"}
    assert {h["user_id"] for h in history} == {editor_id}
    assert history[0]["changes"] == {"price": {"before": "10.00", "after": "11.50"}}
    assert history[0]["version"] == 2


def test_all_matching_the_filter(editor, sql, rows):
    response = confirm(editor, editor.post("/editor/products/bulk", {
        "action": "deactivate", "scope": "filter", "filter_status": "active",
        "filter_q": "lamp", "ids": [str(rows[0])]}))
    assert "changed 3 of 3" in response.get_data(as_text=True)
    assert sql.scalar("SELECT count(*) FROM products WHERE is_active") == 0


def test_the_filter_scope_only_touches_matching_rows(editor, sql, rows):
    editor.post("/editor/products/bulk", {"action": "price_amount", "value": "1",
                                          "scope": "filter", "filter_stock": "out"})
    assert prices(sql) == [Decimal("11.00"), Decimal("19.99"), Decimal("0.50"),
                           Decimal("100.00")]


def test_a_failure_on_one_row_changes_no_row(editor, sql, rows, category):
    dear = sql.product("Dear Lamp", category_id=category, price="99999999.00")
    response = bulk(editor, "price_percent", [*rows, dear], value="5")
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#messages"
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert prices(sql)[:4] == [Decimal("10.00"), Decimal("19.99"), Decimal("0.50"),
                               Decimal("100.00")]
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 0
    assert sql.scalar("SELECT max(version) FROM products") == 1


def test_a_category_removed_meanwhile_fails_the_whole_action(editor, sql, rows, app,
                                                             monkeypatch):
    garden = sql.category("Garden")
    from app.data.products import bulk as bulk_sql

    original = bulk_sql._check_bulk_category

    async def delete_then_check(session, category_id):  # the category vanishes mid-action
        await original(session, category_id)
        sql.execute("DELETE FROM categories WHERE id = %s", garden)

    monkeypatch.setattr(bulk_sql, "_check_bulk_category", delete_then_check)
    response = bulk(editor, "set_category", rows, category_id=str(garden))
    assert response.status_code == 422
    assert "category no longer exists" in response.get_data(as_text=True)
    assert sql.scalar("SELECT count(DISTINCT category_id) FROM products") == 1
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 0


@pytest.mark.parametrize(("fields", "message"), [
    ({"action": "price_percent", "value": "ten"}, "Enter the change as a number"),
    ({"action": "price_percent", "value": ""}, "Enter the change as a number"),
    ({"action": "price_percent", "value": "-150"}, "between -100 and 1000"),
    ({"action": "price_amount", "value": "1.005"}, "at most two decimal places"),
    ({"action": "set_category", "category_id": ""}, "Choose the category"),
    ({"action": "set_category", "category_id": "9999"}, "category does not exist"),
    ({"action": "explode"}, "Choose a bulk action."),
])
def test_bad_bulk_input_gets_a_clear_message_and_changes_nothing(editor, sql, rows, fields,
                                                                 message):
    response = editor.post("/editor/products/bulk", {"scope": "selected",
                                                     "ids": [str(rows[0])], **fields})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert sql.scalar("SELECT max(version) FROM products") == 1


def test_nothing_selected(editor, rows):
    response = bulk(editor, "activate", [])
    assert response.status_code == 422
    assert "Select at least one product first." in response.get_data(as_text=True)


def test_garbage_ids_are_refused(editor, rows):
    response = editor.post("/editor/products/bulk", {"action": "activate", "ids": ["1; drop"]})
    assert response.status_code == 400


def test_more_rows_than_the_limit_need_confirmation(app, editor, sql, rows, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_CONFIRM_LIMIT", 3)
    response = bulk(editor, "deactivate", rows)
    html = response.get_data(as_text=True)
    assert response.status_code == 428
    assert response.headers["HX-Retarget"] == "#bulk-confirmation"
    assert "more than the 3 that can be changed without confirming" in html
    assert "Yes, deactivate 4 products" in html
    assert sql.scalar("SELECT count(*) FROM products WHERE is_active") == 3
    # The old way of confirming (confirm=1 beside the choice) no longer applies anything.
    assert bulk(editor, "deactivate", rows, confirm="1").status_code == 428
    assert sql.scalar("SELECT count(*) FROM products WHERE is_active") == 3
    confirmed = confirm(editor, response)
    assert confirmed.status_code == 200
    assert sql.scalar("SELECT count(*) FROM products WHERE is_active") == 0


def test_a_filter_matching_more_than_the_hard_maximum_is_refused(app, editor, sql, rows,
                                                                monkeypatch):
    monkeypatch.setitem(app.config, "BULK_MAX_ROWS", 2)
    response = editor.post("/editor/products/bulk", {"action": "deactivate", "scope": "filter",
                                                     "confirm": "1"})
    assert response.status_code == 422
    assert "at most 2" in response.get_data(as_text=True)
    assert sql.scalar("SELECT count(*) FROM products WHERE is_active") == 3


def test_without_htmx_a_bulk_action_redirects_back_with_the_filter(editor, sql, rows):
    response = editor.post("/editor/products/bulk", {
        "action": "activate", "scope": "selected", "ids": [str(rows[2])],
        "filter_status": "inactive"}, htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"] == "/editor/products?status=inactive"
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Activate: changed 1 of 1 product." in page


def test_without_htmx_an_error_is_a_page(editor, rows):
    response = editor.post("/editor/products/bulk", {"action": "activate"}, htmx=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<!doctype html>" in html
    assert "Select at least one product first." in html


def test_bulk_without_csrf_is_refused(editor, sql, rows):
    response = editor.post("/editor/products/bulk", {"action": "deactivate",
                                                     "ids": [str(r) for r in rows]}, csrf=False)
    assert response.status_code == 400
    assert sql.scalar("SELECT count(*) FROM products WHERE is_active") == 3


def test_a_row_save_opened_before_a_bulk_change_merges_with_it(editor, sql, rows, category):
    """A bulk change is a set of field changes: a row opened before it keeps its price when
    the row's editor changed only the name; changing the price too is the one question."""
    lamp = rows[0]
    assert bulk(editor, "price_percent", [lamp], value="10").status_code == 200
    data = {"version": "1", "name": "Lamp Zero", "price": "10.00", "stock": "0",
            "category_id": str(category), "is_active": "y"}
    response = editor.put(f"/editor/products/{lamp}", data)
    assert response.status_code == 200
    assert "Merged with ed@example.com’s bulk change to Price." in response.text
    row = sql.one("SELECT name, price FROM products WHERE id = %s", lamp)
    assert row == {"name": "Lamp Zero", "price": Decimal("11.00")}
    other = rows[1]
    bulk(editor, "price_amount", [other], value="1")
    conflict = editor.put(f"/editor/products/{other}", {**data, "name": "Lamp 1",
                                                        "price": "5.00", "stock": "1"})
    assert conflict.status_code == 409
    assert [r.get("data-field") for r in parse(conflict.text).select("tr.differs")] == ["price"]
