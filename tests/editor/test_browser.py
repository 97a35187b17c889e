"""The editor in a real browser (Chromium + htmx 4 + the strict CSP): sign in, filter, edit a
row, validation, Escape, conflicts, delete with undo, new rows, bulk actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


def unexpected_errors(page, status):
    """Console errors other than the browser's note about the expected error status."""
    return [e for e in page.errors if f"status of {status}" not in e]


@pytest.fixture
def shop(sql):
    lighting = sql.category("Lighting")
    garden = sql.category("Garden")
    return {
        "category": lighting,
        "lamp": sql.product("Brass Floor Lamp", category_id=lighting, price="120.00", stock=3),
        "trowel": sql.product("Steel Trowel", category_id=garden, price="15.50", stock=8),
        "editor": sql.user("ed@example.com"),
    }


def test_editor_filters_edits_a_price_and_the_shopper_sees_it(live_server, page, sql, shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    page.fill("input[name=q]", "brass")
    page.wait_for_selector(f"#product-{shop['trowel']}", state="detached")
    assert "q=brass" in page.url
    page.click(f"#product-{lamp} td.price")
    price = page.locator(f"#f-{lamp}-price")
    price.wait_for()
    assert page.evaluate("document.activeElement.id") == f"f-{lamp}-name"
    page.keyboard.press("Tab")  # Tab moves from name to price
    assert page.evaluate("document.activeElement.id") == f"f-{lamp}-price"
    price.fill("99.90")
    page.click(f"#product-{lamp} button.save")
    page.wait_for_selector(f"#product-{lamp}:not(.editing)")
    assert page.inner_text(f"#product-{lamp} td.price") == "99.90"
    assert sql.scalar("SELECT price FROM products WHERE id = %s", lamp) == Decimal("99.90")
    page.goto(f"{live_server.url}/products")
    shopper_text = page.inner_text("main")
    assert "Brass Floor Lamp" in shopper_text and "99.90" in shopper_text
    assert "120.00" not in shopper_text
    assert page.errors == []


def test_an_invalid_price_shows_an_inline_error_and_keeps_the_row_open(live_server, page,
                                                                        sql, shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    page.click(f"#product-{lamp} td.name")
    page.fill(f"#f-{lamp}-price", "-5")
    page.press(f"#f-{lamp}-price", "Enter")
    error = page.locator(f"#err-{lamp}-price")
    error.wait_for()
    assert error.inner_text() == "Price cannot be negative."
    assert page.input_value(f"#f-{lamp}-price") == "-5"
    assert page.get_attribute(f"#f-{lamp}-price", "aria-invalid") == "true"
    assert sql.scalar("SELECT price FROM products WHERE id = %s", lamp) == Decimal("120.00")
    assert unexpected_errors(page, 422) == []


def test_escape_cancels_the_row_edit(live_server, page, sql, shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    page.click(f"#product-{lamp} td.price")
    page.fill(f"#f-{lamp}-price", "1.00")
    page.keyboard.press("Escape")
    # Something was typed: it asks first (an in-page dialog), and discards only on "yes".
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-dialog-yes")
    page.wait_for_selector(f"#product-{lamp}:not(.editing)")
    assert page.inner_text(f"#product-{lamp} td.price") == "120.00"
    assert sql.scalar("SELECT version FROM products WHERE id = %s", lamp) == 1
    assert page.errors == []


def test_a_conflict_shows_both_values_and_the_editor_chooses(live_server, page, browser, sql,
                                                            shop):
    lamp = shop["lamp"]
    sql.user("second@example.com")
    sign_in(page, live_server.url, "ed@example.com")
    page.click(f"#product-{lamp} td.price")
    page.fill(f"#f-{lamp}-price", "110.00")

    other = browser.new_context().new_page()
    sign_in(other, live_server.url, "second@example.com")
    other.click(f"#product-{lamp} td.price")
    other.fill(f"#f-{lamp}-price", "130.00")
    other.click(f"#product-{lamp} button.save")
    other.wait_for_selector(f"#product-{lamp}:not(.editing)")
    other.context.close()

    page.click(f"#product-{lamp} button.save")
    conflict = page.locator(f"#product-{lamp}.conflict")
    conflict.wait_for()
    price_row = conflict.locator("tr.differs", has_text="Price")
    assert price_row.locator("td.mine").inner_text().strip() == "Keep mine: 110.00"
    assert price_row.locator("td.theirs").inner_text().strip().startswith("Keep theirs: 130.00")
    assert sql.scalar("SELECT price FROM products WHERE id = %s", lamp) == Decimal("130.00")
    price_row.locator("input.keep-mine").check()  # a choice per field (issue 12)
    page.click(f"#product-{lamp} button.overwrite")
    page.wait_for_selector(f"#product-{lamp}:not(.conflict)")
    assert page.inner_text(f"#product-{lamp} td.price") == "110.00"
    assert sql.scalar("SELECT version FROM products WHERE id = %s", lamp) == 3
    assert unexpected_errors(page, 409) == []


def test_delete_asks_then_undo_brings_it_back(live_server, page, sql, shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    page.click(f"#product-{lamp} button.danger")
    page.wait_for_selector("#confirm-dialog[open]")  # an in-page dialog, not window.confirm
    assert "Shoppers will no longer see it" in page.inner_text("#confirm-dialog-text")
    page.click("#confirm-dialog-yes")
    page.wait_for_selector(f"#product-{lamp}.inactive")
    # The notice and its Undo are in the row, where the editor is.
    assert "hidden from shoppers" in page.inner_text(f"#product-{lamp} .row-notice")
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", lamp) is False
    page.click(f"#product-{lamp} button.undo")
    page.wait_for_selector(f"#product-{lamp}:not(.inactive)")
    assert "shown to shoppers again" in page.inner_text(f"#product-{lamp} .row-notice")
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", lamp) is True


def test_a_new_product_row_at_the_top(live_server, page, sql, shop):
    sign_in(page, live_server.url, "ed@example.com")
    page.click("#new-product")
    page.wait_for_selector("#product-rows > tr:first-child#product-new")
    page.fill("#f-new-name", "Desk Lamp")
    page.fill("#f-new-price", "45")
    page.select_option("#f-new-category_id", str(shop["category"]))
    page.press("#f-new-price", "Enter")
    page.wait_for_selector("#product-new", state="detached")
    created = sql.one("SELECT id, price, slug FROM products WHERE name = 'Desk Lamp'")
    assert created["slug"] == "desk-lamp" and created["price"] == Decimal("45.00")
    assert page.inner_text(f"#product-{created['id']} td.price") == "45.00"
    # Escape on another new row discards it without a request.
    page.click("#new-product")
    page.wait_for_selector("#product-new")
    page.focus("#f-new-name")
    page.keyboard.press("Escape")
    page.wait_for_selector("#product-new", state="detached")
    assert page.errors == []


def test_stock_and_active_change_in_place(live_server, page, sql, shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    page.fill(f"#product-{lamp} .stock-input", "0")
    page.press(f"#product-{lamp} .stock-input", "Tab")
    page.wait_for_selector(f"#product-{lamp}[data-version='2']")
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", lamp) == 0
    page.click(f"#product-{lamp} button.toggle")
    page.wait_for_selector(f"#product-{lamp}.inactive")
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", lamp) is False


def test_bulk_price_change_on_the_selected_rows(live_server, page, sql, shop):
    sign_in(page, live_server.url, "ed@example.com")
    page.check(f"#product-{shop['lamp']} .row-select")
    page.select_option("#bulk-action", "price_percent")
    assert page.is_hidden("#bulk-category") and page.is_visible("#bulk-value")
    page.fill("#bulk-value", "-10")
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector("#messages >> text=changed 1 of 1 product")
    assert page.inner_text(f"#product-{shop['lamp']} td.price") == "108.00"
    assert sql.scalar("SELECT price FROM products WHERE id = %s", shop["trowel"]) \
        == Decimal("15.50")
    # "Select all on this page", then deactivate both.
    page.check("#select-page")
    assert page.locator("#product-rows .row-select:checked").count() == 2
    page.select_option("#bulk-action", "deactivate")
    page.click("#bulk-form button[type=submit]")
    # Hiding several rows asks first, naming the action and the count.
    page.click("#bulk-confirmation button:has-text('Yes, deactivate 2 products')")
    page.wait_for_selector("#messages >> text=changed 2 of 2 products")
    assert sql.scalar("SELECT count(*) FROM products WHERE is_active") == 0
    assert unexpected_errors(page, 428) == []  # the confirmation is a 428


def test_signed_out_htmx_requests_show_a_message_not_a_login_page(live_server, page, sql,
                                                                   shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    sql.execute("UPDATE users SET session_generation = session_generation + 1")
    page.click(f"#product-{lamp} td.price")
    page.wait_for_selector("#messages >> text=Please sign in again")
    assert page.locator(f"#product-{lamp}.editing").count() == 0
    assert page.locator(f"#product-{lamp} #email").count() == 0
