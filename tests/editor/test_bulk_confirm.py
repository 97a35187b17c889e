"""Bulk confirmations bound to what they show: the confirmation names the action, its
parameters, the filter and the exact count; its button carries a signed token of exactly that;
a tampered or expired token, or rows that changed since the preview, never apply anything."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.html import parse


@pytest.fixture
def lamps(sql, category):
    return [sql.product(f"Brass Lamp {n}", category_id=category, price="10.00") for n in range(4)]


def post(editor, data, **kwargs):
    return editor.post("/editor/products/bulk", data, **kwargs)


def token_of(response) -> str:
    field = parse(response.get_data(as_text=True)).find("input", name="confirm_token")
    assert field is not None, response.get_data(as_text=True)[:800]
    return field.get("value") or ""


def active_count(sql) -> int:
    return sql.scalar("SELECT count(*) FROM products WHERE is_active")


def test_a_filter_confirmation_names_action_filter_and_count(editor, sql, lamps, category):
    # Not in Lighting: "lamp" also finds its synonym "light", so the Lighting category's products.
    sql.product("Velvet Cushion", category_id=sql.category("Textiles"))
    response = post(editor, {"action": "deactivate", "scope": "filter", "filter_q": "lamp",
                             "filter_status": "active"})
    assert response.status_code == 428
    assert response.headers["HX-Retarget"] == "#bulk-confirmation"
    box = parse(response.get_data(as_text=True)).find("section", class_="bulk-confirm")
    assert box.find(class_="confirm-action").text == "Deactivate (hide from shoppers)"
    assert box.find(class_="confirm-scope").text == \
        "all products matching: search “lamp”, active only"
    assert box.find(class_="confirm-count").text == "4"
    assert box.find("button", class_="confirm-yes").text == "Yes, deactivate 4 products"
    cancel = box.find("a", class_="cancel")
    assert cancel.text == "Cancel"
    assert cancel.get("href") == "/editor/products?q=lamp&status=active"  # back to that list
    assert active_count(sql) == 5  # nothing applied by asking


def test_parameters_are_named_price_and_category(editor, sql, lamps, app, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_CONFIRM_LIMIT", 2)
    garden = sql.category("Garden")
    ids = [str(i) for i in lamps]
    percent = post(editor, {"action": "price_percent", "value": "10", "ids": ids})
    assert "Change the price by +10 %" in percent.get_data(as_text=True)
    assert "the 4 selected products" in percent.get_data(as_text=True)
    amount = post(editor, {"action": "price_amount", "value": "-2.50", "ids": ids})
    assert "Change the price by −£2.50" in amount.get_data(as_text=True)
    move = post(editor, {"action": "set_category", "category_id": str(garden), "ids": ids})
    assert "Move to the category “Garden”" in move.get_data(as_text=True)
    assert "Yes, move 4 products" in move.get_data(as_text=True)
    applied = post(editor, {"confirm_token": token_of(percent)})
    assert applied.status_code == 200
    assert sql.scalar("SELECT min(price) FROM products") == Decimal("11.00")


def test_the_token_decides_not_the_other_fields(editor, sql, lamps):
    asked = post(editor, {"action": "deactivate", "ids": [str(i) for i in lamps[:2]]})
    # A page that changed the form's fields after the preview cannot change what is applied.
    response = post(editor, {"confirm_token": token_of(asked), "action": "price_amount",
                             "value": "100", "ids": [str(i) for i in lamps]})
    assert response.status_code == 200
    assert "Deactivate: changed 2 of 2 products." in response.get_data(as_text=True)
    assert active_count(sql) == 2
    assert sql.scalar("SELECT max(price) FROM products") == Decimal("10.00")


def test_a_tampered_token_is_refused_and_changes_nothing(editor, sql, lamps):
    token = token_of(post(editor, {"action": "deactivate", "ids": [str(i) for i in lamps]}))
    payload, _, signature = token.rpartition(".")
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "garbage",
                payload + "." + signature[::-1]):
        response = post(editor, {"confirm_token": bad})
        assert response.status_code == 400
        assert "This confirmation is not valid" in response.get_data(as_text=True)
        assert response.headers["HX-Retarget"] == "#messages"
    assert active_count(sql) == 4


def test_an_expired_token_gets_a_fresh_confirmation(editor, sql, lamps, monkeypatch):
    from app.editor import confirmations

    token = token_of(post(editor, {"action": "deactivate", "ids": [str(i) for i in lamps]}))
    monkeypatch.setattr(confirmations, "MAX_AGE", -1)
    response = post(editor, {"confirm_token": token})
    assert response.status_code == 428
    assert "That confirmation had expired" in response.get_data(as_text=True)
    assert active_count(sql) == 4
    monkeypatch.setattr(confirmations, "MAX_AGE", 900)
    assert post(editor, {"confirm_token": token_of(response)}).status_code == 200
    assert active_count(sql) == 0


def test_rows_that_changed_since_the_preview_are_refused_with_the_new_count(editor, sql, lamps,
                                                                          category):
    asked = post(editor, {"action": "deactivate", "scope": "filter", "filter_q": "lamp"})
    assert "Yes, deactivate 4 products" in asked.get_data(as_text=True)
    sql.product("Brass Lamp 9", category_id=category)  # a colleague adds a matching product
    response = post(editor, {"confirm_token": token_of(asked)})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#bulk-confirmation"
    assert "it was 4, it is now 5. Nothing was changed." in html
    assert "Yes, deactivate 5 products" in html
    assert active_count(sql) == 5
    applied = post(editor, {"confirm_token": token_of(response)})
    assert "changed 5 of 5 products" in applied.get_data(as_text=True)
    assert active_count(sql) == 0


def test_the_same_count_but_other_rows_is_also_refused(editor, sql, lamps, category):
    asked = post(editor, {"action": "deactivate", "scope": "filter", "filter_q": "lamp"})
    sql.execute("UPDATE products SET name = 'Oak Table' WHERE id = %s", lamps[0])
    sql.product("Brass Lamp 9", category_id=category)
    response = post(editor, {"confirm_token": token_of(asked)})
    assert response.status_code == 409
    assert sql.scalar("SELECT count(*) FROM products WHERE NOT is_active") == 0


def test_one_row_deactivates_without_asking(editor, sql, lamps):
    response = post(editor, {"action": "deactivate", "ids": [str(lamps[0])]})
    assert response.status_code == 200 and active_count(sql) == 3


def test_without_htmx_the_confirmation_is_a_page_and_its_form_works(editor, sql, lamps):
    response = post(editor, {"action": "deactivate", "ids": [str(i) for i in lamps],
                             "filter_q": "brass"}, htmx=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 428 and "<!doctype html>" in html
    form = parse(html).find("form", class_="confirm-actions")
    assert form.get("method") == "post" and form.get("action") == "/editor/products/bulk"
    assert form.find("input", name="filter_q").get("value") == "brass"
    applied = post(editor, {"confirm_token": token_of(response), "filter_q": "brass",
                            "csrf_token": editor.csrf}, htmx=False)
    assert applied.status_code == 303 and applied.headers["Location"] == "/editor/products?q=brass"
    assert active_count(sql) == 0


def test_a_success_clears_the_confirmation_region(editor, sql, lamps):
    asked = post(editor, {"action": "deactivate", "ids": [str(i) for i in lamps]})
    html = post(editor, {"confirm_token": token_of(asked)}).get_data(as_text=True)
    assert '<hx-partial hx-target="#bulk-confirmation" hx-swap="innerHTML"></hx-partial>' in html
