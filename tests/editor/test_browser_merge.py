"""Two editors in two Chromium contexts (issue 12): disjoint edits both survive and say so, an
overlapping edit asks only about that field, "keep mine" leaves the colleague's other field,
and a double-click on Save or on the bulk "Apply" is applied once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.a11y import axe_violations
from tests.support.browser import Requests, sign_in

pytestmark = pytest.mark.browser

SHOTS = "reports/screenshots"


@pytest.fixture
def shop(sql):
    lighting = sql.category("Lighting")
    sql.user("ed@example.com")
    sql.user("ana@example.com")
    return {"lamp": sql.product("Brass Floor Lamp", category_id=lighting, price="120.00",
                                stock=3, attributes={"brand": "Halden"}),
            "trowel": sql.product("Steel Trowel", category_id=lighting, price="15.50")}


@pytest.fixture
def colleague(browser, live_server, shop):
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live_server.url, "ana@example.com")
    yield page
    context.close()


def open_row(page, lamp: int) -> None:
    page.click(f"#product-{lamp} a.edit")
    page.locator(f"#f-{lamp}-name").wait_for()


def save(page, lamp: int) -> None:
    page.click(f"#product-{lamp} button.save")


def revisions(sql, lamp: int) -> list[dict]:
    return sql.all("SELECT user_id, changes FROM product_revisions WHERE product_id = %s"
                   " ORDER BY version", lamp)


def test_disjoint_edits_both_survive_and_the_row_says_merged(live_server, page, colleague,
                                                             sql, shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    open_row(page, lamp)
    open_row(colleague, lamp)
    colleague.fill(f"#f-{lamp}-brand", "Nordlys")
    save(colleague, lamp)
    colleague.wait_for_selector(f"#product-{lamp}:not(.editing)")

    page.fill(f"#f-{lamp}-price", "99.00")
    save(page, lamp)
    page.wait_for_selector(f"#product-{lamp}:not(.editing)")
    status = page.locator(f"#product-{lamp} .row-notice[role=status]")
    assert "Merged with ana@example.com’s change to Brand." in status.inner_text()
    assert page.inner_text(f"#product-{lamp} td.price") == "99.00"
    assert "Nordlys" in page.inner_text(f"#product-{lamp} td.attributes")
    row = sql.one("SELECT price, attributes FROM products WHERE id = %s", lamp)
    assert row["price"] == Decimal("99.00") and row["attributes"]["brand"] == "Nordlys"
    assert list(revisions(sql, lamp)[-1]["changes"]) == ["price"]
    assert page.errors == []


def test_an_overlapping_edit_shows_only_that_field_and_keep_mine_keeps_their_other_field(
        live_server, page, colleague, sql, shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    open_row(page, lamp)
    open_row(colleague, lamp)
    colleague.fill(f"#f-{lamp}-price", "130.00")
    colleague.fill(f"#f-{lamp}-brand", "Nordlys")
    save(colleague, lamp)
    colleague.wait_for_selector(f"#product-{lamp}:not(.editing)")

    page.fill(f"#f-{lamp}-name", "Brass Reading Lamp")
    page.fill(f"#f-{lamp}-price", "110.00")
    save(page, lamp)
    conflict = page.locator(f"#product-{lamp}.conflict")
    conflict.wait_for()
    assert conflict.locator("tr.differs").count() == 1
    assert conflict.locator("tr.differs th").inner_text() == "Price"
    assert "Your other changes (Name) will be saved" in conflict.inner_text()
    assert "Their changes to Brand stay as they are" in conflict.inner_text()
    assert axe_violations(page, f"#product-{lamp}") == []
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{SHOTS}/i12-conflict-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    conflict.locator("input.keep-mine").check()
    page.click(f"#product-{lamp} button.overwrite")
    page.wait_for_selector(f"#product-{lamp}:not(.conflict)")
    row = sql.one("SELECT name, price, attributes FROM products WHERE id = %s", lamp)
    assert (row["name"], row["price"], row["attributes"]["brand"]) == (
        "Brass Reading Lamp", Decimal("110.00"), "Nordlys")
    assert set(revisions(sql, lamp)[-1]["changes"]) == {"name", "price"}  # not the brand
    assert [e for e in page.errors if "status of 409" not in e] == []


def test_a_double_click_on_save_saves_once(live_server, page, sql, shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    requests = Requests(page)
    open_row(page, lamp)
    page.fill(f"#f-{lamp}-price", "99.00")
    page.dblclick(f"#product-{lamp} button.save")
    page.wait_for_selector(f"#product-{lamp}:not(.editing)")
    requests.settle()  # the page's editor stream never ends: not networkidle
    assert len(revisions(sql, lamp)) == 1
    assert sql.scalar("SELECT version FROM products WHERE id = %s", lamp) == 2
    assert page.errors == []


def test_a_double_click_on_bulk_apply_applies_once(live_server, page, sql, shop):
    sign_in(page, live_server.url, "ed@example.com")
    requests = Requests(page)
    page.check(f"#product-{shop['lamp']} .row-select")
    page.check(f"#product-{shop['trowel']} .row-select")
    page.select_option("#bulk-action", "price_percent")
    page.fill("#bulk-value", "10")
    page.dblclick("#bulk-form button[type=submit]")
    page.wait_for_selector("#messages >> text=changed 2 of 2 products")
    requests.settle()
    prices = [r["price"] for r in sql.all("SELECT price FROM products ORDER BY id")]
    assert prices == [Decimal("132.00"), Decimal("17.05")]  # x1.1 once, not x1.21
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 2
    assert page.errors == []


def test_a_stale_restore_asks_about_the_later_field_and_keeps_the_rest(live_server, page,
                                                                      colleague, sql, shop):
    lamp = shop["lamp"]
    sign_in(page, live_server.url, "ed@example.com")
    open_row(page, lamp)
    page.fill(f"#f-{lamp}-price", "99.00")
    save(page, lamp)
    page.wait_for_selector(f"#product-{lamp}:not(.editing)")
    page.goto(f"{live_server.url}/editor/products/{lamp}/history")  # opened at version 2

    colleague.reload()
    open_row(colleague, lamp)
    colleague.fill(f"#f-{lamp}-price", "130.00")
    colleague.fill(f"#f-{lamp}-stock", "9")
    save(colleague, lamp)
    colleague.wait_for_selector(f"#product-{lamp}:not(.editing)")

    page.click("form.restore button:has-text('Restore version 1')")
    page.wait_for_selector("#confirm-dialog[open]")  # asked in the page's own dialog
    page.click("#confirm-dialog-yes")
    box = page.locator(".restore-conflict")
    box.wait_for()
    assert box.locator("tr.differs").count() == 1
    assert "130.00" in box.inner_text() and "ana@example.com" in box.inner_text()
    assert axe_violations(page, ".restore-conflict") == []
    page.screenshot(path=f"{SHOTS}/i12-restore-conflict-1280.png", full_page=True)
    box.locator("input[type=checkbox]").check()
    box.locator("button[type=submit]").click()
    page.wait_for_selector("#history [role=status] >> text=Restored version 1")
    row = sql.one("SELECT price, stock FROM products WHERE id = %s", lamp)
    assert row == {"price": Decimal("120.00"), "stock": 9}  # the later stock edit is kept
    assert [e for e in page.errors if "status of 409" not in e] == []
