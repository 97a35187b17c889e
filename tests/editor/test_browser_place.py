"""The editor keeps its place, in Chromium: confirmations bound to what they show, focus after
every swap, Escape that asks first, one Tab stop per row, fixed column widths, phone cards, a
selection kept across pages, sign-in again without losing typed values, and axe-core clean."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.a11y import axe_violations
from tests.support.browser import sign_in
from tests.support.clients import PASSWORD

pytestmark = pytest.mark.browser

#: Screenshots land here for a person to look at (the tests never compare pixels).
SHOTS = Path(os.environ.get("VITRINE_SCREENSHOTS", "/tmp/vitrine-shots"))


@pytest.fixture
def shop(sql):
    lighting = sql.category("Lighting")
    garden = sql.category("Garden")
    ids = {"category": lighting, "garden": garden, "editor": sql.user("ed@example.com")}
    ids["lamps"] = [sql.product(f"Brass Lamp {n}", category_id=lighting, price="20.00",
                                stock=n, attributes={"brand": "Halden", "colour": "brass"},
                                created_at=f"2026-01-0{n + 1}") for n in range(3)]
    ids["trowel"] = sql.product("Steel Trowel With A Rather Long Descriptive Name",
                                category_id=garden, price="15.50", stock=8,
                                created_at="2026-01-09")
    return ids


@pytest.fixture
def editor_page(live_server, page, shop):
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, "ed@example.com")
    return page


def focused(page) -> str:
    """What has the focus: ``tag#id.class`` of the element and the id of its row."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        const row = el.closest('tr');
        return `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}` +
               (row ? ` in ${row.id}` : '');
    }""")


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


# -- 3. confirmations bound to what they show -----------------------------------------------------

def open_filter_confirmation(page, query: str) -> None:
    page.fill("input[name=q]", query)
    page.wait_for_selector("#table-summary >> text=3 products")
    page.select_option("#bulk-action", "deactivate")
    page.check("input[name=scope][value=filter]")
    page.click("#bulk-apply")
    page.wait_for_selector("#bulk-confirmation .bulk-confirm")


def test_a_stale_confirmation_is_refused_with_the_new_count(editor_page, sql, shop):
    page = editor_page
    open_filter_confirmation(page, "lamp")
    box = page.locator("#bulk-confirmation .bulk-confirm")
    assert box.locator(".confirm-action").inner_text() == "Deactivate (hide from shoppers)"
    assert box.locator(".confirm-scope").inner_text() == "all products matching: search “lamp”"
    assert focused(page) == "section.alert.alert-warning.bulk-confirm"
    assert axe_violations(page) == []
    shoot(page, "confirmation-1280")
    sql.product("Brass Lamp 9", category_id=shop["category"])  # a colleague adds one
    page.click("#bulk-confirmation button.confirm-yes")
    page.wait_for_selector("#bulk-confirmation >> text=it was 3, it is now 4")
    assert page.inner_text("#bulk-confirmation button.confirm-yes") == \
        "Yes, deactivate 4 products"
    assert sql.scalar("SELECT count(*) FROM products WHERE NOT is_active") == 0
    page.click("#bulk-confirmation button.confirm-yes")
    page.wait_for_selector("#messages >> text=changed 4 of 4 products")
    assert sql.scalar("SELECT count(*) FROM products WHERE NOT is_active") == 4
    assert page.inner_text("#bulk-confirmation") == ""


def test_changing_the_action_or_filter_clears_the_confirmation_and_cancel_returns(editor_page,
                                                                                sql, shop):
    page = editor_page
    open_filter_confirmation(page, "lamp")
    page.select_option("#bulk-action", "activate")
    assert page.locator("#bulk-confirmation .bulk-confirm").count() == 0
    assert "withdrawn" in page.inner_text("#messages")
    page.select_option("#bulk-action", "deactivate")
    page.click("#bulk-apply")
    page.wait_for_selector("#bulk-confirmation .bulk-confirm")
    page.fill("input[name=q]", "trowel")
    assert page.locator("#bulk-confirmation .bulk-confirm").count() == 0
    page.fill("input[name=q]", "lamp")
    page.wait_for_selector("#table-summary >> text=3 products")
    page.click("#bulk-apply")
    page.wait_for_selector("#bulk-confirmation .bulk-confirm")
    page.click("#bulk-confirmation a.cancel")
    assert page.locator("#bulk-confirmation .bulk-confirm").count() == 0
    assert focused(page) == "button." and page.evaluate("document.activeElement.id") == \
        "bulk-apply"
    assert sql.scalar("SELECT count(*) FROM products WHERE NOT is_active") == 0
    assert page.errors == [] or all("status of 428" in e for e in page.errors)


# -- 4. the editor keeps their place ---------------------------------------------------------------

def test_focus_after_each_swap(editor_page, sql, shop):
    page = editor_page
    lamp = shop["lamps"][0]
    row = f"#product-{lamp}"
    # Save with Enter: the status is in the row, the focus on this row's Edit link.
    page.click(f"{row} a.edit")
    page.wait_for_selector(f"{row}.editing")
    page.fill(f"#f-{lamp}-price", "21.00")
    page.press(f"#f-{lamp}-price", "Enter")
    page.wait_for_selector(f"{row}:not(.editing) .row-notice")
    assert page.inner_text(f"{row} .row-notice") == "Saved “Brass Lamp 0”."
    assert page.get_attribute(f"{row} .row-notice", "role") == "status"
    assert focused(page) == f"a.edit in product-{lamp}"
    assert sql.scalar("SELECT price FROM products WHERE id = %s", lamp) == Decimal("21.00")
    # Cancel (nothing typed: Escape cancels at once): back to Edit.
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{row}.editing")
    assert focused(page) == f"input. in product-{lamp}"
    page.keyboard.press("Escape")
    page.wait_for_selector(f"{row}:not(.editing)")
    assert focused(page) == f"a.edit in product-{lamp}"
    # Stock, then Tab: saved in place, the focus goes on to the next control of the row.
    page.focus(f"{row} .stock-input")
    page.fill(f"{row} .stock-input", "7")
    page.keyboard.press("Tab")
    page.wait_for_selector(f"{row}[data-version='3']")
    assert focused(page) == f"a.edit in product-{lamp}"
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", lamp) == 7
    # The Active toggle keeps the focus on the toggle.
    page.focus(f"{row} button.toggle")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{row}.inactive")
    assert focused(page) == f"button.toggle in product-{lamp}"
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{row}:not(.inactive)")
    # Delete: asked in a dialog, then the focus is on Undo, in the row.
    page.focus(f"{row} button.danger")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm-dialog[open]")
    assert page.evaluate("document.activeElement.id") == "confirm-dialog-no"
    page.click("#confirm-dialog-yes")
    page.wait_for_selector(f"{row}.inactive")
    assert focused(page) == f"button.undo in product-{lamp}"
    page.keyboard.press("Enter")  # Undo from the keyboard
    page.wait_for_selector(f"{row}:not(.inactive)")
    assert focused(page) == f"a.edit in product-{lamp}"
    assert "shown to shoppers again" in page.inner_text(f"{row} .row-notice")
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", lamp) is True
    assert page.errors == []


def test_escape_with_typed_changes_asks_first(editor_page, sql, shop):
    page = editor_page
    lamp = shop["lamps"][1]
    page.click(f"#product-{lamp} td.name")
    page.fill(f"#f-{lamp}-name", "Brass Lamp One")
    page.keyboard.press("Escape")
    page.wait_for_selector("#confirm-dialog[open]")
    assert axe_violations(page) == []
    page.keyboard.press("Escape")  # Escape in the dialog means "keep editing"
    page.wait_for_selector("#confirm-dialog", state="hidden")
    assert page.input_value(f"#f-{lamp}-name") == "Brass Lamp One"
    assert focused(page) == f"input. in product-{lamp}"
    page.keyboard.press("Escape")
    page.click("#confirm-dialog-yes")
    page.wait_for_selector(f"#product-{lamp}:not(.editing)")
    assert page.inner_text(f"#product-{lamp} td.name").startswith("Brass Lamp 1")
    assert sql.scalar("SELECT version FROM products WHERE id = %s", lamp) == 1


def test_keyboard_only_one_tab_stop_per_row(editor_page, shop):
    page = editor_page
    page.goto(page.url)  # focus starts at the top of the page
    tabs = 0
    while page.evaluate("document.activeElement.textContent") != "Skip to the product table":
        page.keyboard.press("Tab")
        tabs += 1
        assert tabs < 15, focused(page)
    page.keyboard.press("Enter")
    to_edit = 0
    while not focused(page).startswith("a.edit"):
        page.keyboard.press("Tab")
        to_edit += 1
        assert to_edit < 8, focused(page)
    assert to_edit <= 4  # select-all, two sort headers, then the first row's Edit
    first = focused(page)
    page.keyboard.press("Tab")
    assert focused(page).startswith("a.edit") and focused(page) != first  # the next row
    # The row's other controls are reached with the arrow keys.
    page.keyboard.press("ArrowRight")
    assert focused(page).startswith("button.link-button")
    page.keyboard.press("Home")
    assert focused(page).startswith("input.row-select")
    page.keyboard.press("ArrowRight")
    assert focused(page).startswith("input.stock-input")


def test_opening_a_row_keeps_the_column_widths(editor_page, shop):
    page = editor_page
    measure = """() => {
        const table = document.querySelector('#products-table');
        return {table: table.getBoundingClientRect().width,
                cols: [...table.querySelectorAll('thead th')]
                      .map(th => Math.round(th.getBoundingClientRect().width)),
                page: document.documentElement.scrollWidth};
    }"""
    before = page.evaluate(measure)
    lamp = shop["lamps"][0]
    page.click(f"#product-{lamp} td.name")
    page.wait_for_selector(f"#product-{lamp}.editing")
    page.fill(f"#f-{lamp}-price", "-5")
    page.press(f"#f-{lamp}-price", "Enter")
    page.wait_for_selector(f"#err-{lamp}-price")
    assert page.evaluate("document.activeElement.id") == f"f-{lamp}-price"  # the field to fix
    after = page.evaluate(measure)
    assert after == before, (before, after)
    assert before["page"] <= 1280
    assert axe_violations(page) == []
    shoot(page, "row-open-1280")


def test_phone_width_has_cards_and_no_horizontal_scroll(editor_page, shop):
    page = editor_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = "document.documentElement.scrollWidth"
    assert page.evaluate(width) <= 390
    shoot(page, "table-390")
    lamp = shop["lamps"][0]
    page.click(f"#product-{lamp} a.edit")
    page.wait_for_selector(f"#product-{lamp}.editing")
    assert page.evaluate(width) <= 390
    shoot(page, "row-open-390")
    page.keyboard.press("Escape")
    page.wait_for_selector(f"#product-{lamp}:not(.editing)")
    for product in shop["lamps"][:2]:
        page.check(f"#product-{product} .row-select")
    page.select_option("#bulk-action", "deactivate")
    page.click("#bulk-apply")
    page.wait_for_selector("#bulk-confirmation .bulk-confirm")
    assert page.evaluate(width) <= 390
    shoot(page, "confirmation-390")


def test_the_table_and_history_are_axe_clean(editor_page, sql, shop):
    page = editor_page
    assert axe_violations(page) == []
    shoot(page, "table-1280")
    lamp = shop["lamps"][0]
    page.click(f"#product-{lamp} td.price")
    page.fill(f"#f-{lamp}-price", "25.00")
    page.click(f"#product-{lamp} button.save")
    page.wait_for_selector(f"#product-{lamp} .row-notice")
    page.click(f"#product-{lamp} a[data-key=history]")
    page.wait_for_selector("h1 >> text=History of")
    assert axe_violations(page) == []
    page.click("button:has-text('Restore version 1')")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-dialog-yes")
    page.wait_for_selector("#history >> text=Restored version 1 as version 3.")
    assert page.evaluate("document.activeElement.textContent").startswith("Restored version 1")
    assert axe_violations(page) == []
    shoot(page, "history-1280")


# -- 5. the list behaves like a tool -----------------------------------------------------------

def test_selection_is_kept_across_pages_and_paging_scrolls_to_the_table(editor_page, sql, shop):
    page = editor_page
    sql.execute("INSERT INTO products (name, slug, price, stock, category_id, created_at)"
                " SELECT 'Oak Shelf ' || n, 'oak-shelf-' || n, 5, 1, %s, '2025-06-01'::date + n"
                " FROM generate_series(1, 60) n", shop["category"])
    page.reload()
    first = shop["trowel"]
    page.check(f"#product-{first} .row-select")
    assert page.inner_text("#selection-status") == "1 selected"
    page.click("nav.pager a[rel=next]")
    page.wait_for_selector("#table-summary >> text=page 2 of 2")
    top = page.evaluate("document.querySelector('#editor-table').getBoundingClientRect().top")
    assert -2 <= top < 200  # the table's top is in view
    assert page.inner_text("#selection-status") == "1 selected (1 on other pages)"
    page.locator("#product-rows .row-select").first.check()
    assert page.inner_text("#selection-status") == "2 selected (1 on other pages)"
    page.select_option("#bulk-action", "price_amount")
    page.fill("#bulk-value", "1")
    page.click("#bulk-apply")
    page.wait_for_selector("#messages >> text=changed 2 of 2 products")
    assert sql.scalar("SELECT price FROM products WHERE id = %s", first) == Decimal("16.50")
    assert page.inner_text("#selection-status") == ""


# -- 6. session expiry without loss ------------------------------------------------------------

def test_signed_out_in_another_tab_sign_in_in_the_row_and_save(editor_page, sql, shop):
    page = editor_page
    lamp = shop["lamps"][2]
    page.click(f"#product-{lamp} td.name")
    page.fill(f"#f-{lamp}-name", "Brass Lamp Two")
    page.fill(f"#f-{lamp}-price", "33.00")
    other = page.context.new_page()  # the same browser: another tab signs out
    other.goto(page.url)
    other.click("button:has-text('Sign out')")
    other.wait_for_url("**/auth/login")
    other.close()
    page.click(f"#product-{lamp} button.save")
    page.wait_for_selector(f"#product-{lamp}.signin-row")
    assert "Your session has ended" in page.inner_text(f"#product-{lamp}")
    assert "form has expired" not in page.inner_text("body")
    assert focused(page) == f"input. in product-{lamp}"  # the email field
    assert axe_violations(page, f"#product-{lamp}") == []
    shoot(page, "signin-row-1280")
    page.keyboard.type("ed@example.com")
    page.fill(f"#signin-password-{lamp}", PASSWORD)
    page.press(f"#signin-password-{lamp}", "Enter")
    page.wait_for_selector(f"#product-{lamp}.editing")
    assert page.input_value(f"#f-{lamp}-name") == "Brass Lamp Two"
    assert page.input_value(f"#f-{lamp}-price") == "33.00"
    page.click(f"#product-{lamp} button.save")
    page.wait_for_selector(f"#product-{lamp}:not(.editing) .row-notice")
    assert sql.one("SELECT name, price FROM products WHERE id = %s", lamp) == {
        "name": "Brass Lamp Two", "price": Decimal("33.00")}
    # The page's other forms got the new session's token too.
    page.focus(f"#product-{shop['lamps'][0]} .stock-input")
    page.fill(f"#product-{shop['lamps'][0]} .stock-input", "4")
    page.keyboard.press("Tab")
    page.wait_for_selector(f"#product-{shop['lamps'][0]}[data-version='2']")


def test_escape_in_an_open_select_only_closes_the_select(editor_page, shop):
    page = editor_page
    lamp = shop["lamps"][0]
    select = f"#f-{lamp}-category_id"
    page.click(f"#product-{lamp} td.name")
    page.focus(select)
    page.keyboard.press("Alt+ArrowDown")
    assert page.evaluate(f"document.querySelector('{select}').matches(':open')")
    page.keyboard.press("Escape")
    assert not page.evaluate(f"document.querySelector('{select}').matches(':open')")
    assert page.locator(f"#product-{lamp}.editing").count() == 1
    assert page.evaluate("document.activeElement.id") == select[1:]
    page.keyboard.press("Escape")  # the select is closed now: Escape cancels the row
    page.wait_for_selector(f"#product-{lamp}:not(.editing)")
