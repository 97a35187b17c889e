"""A shopper's open pages follow the catalog (Playwright + Chromium against live Hypercorn)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

#: The page's live stream is open: htmx's SSE extension has its response (``_htmx.sse``).
CONNECTED = "() => document.querySelector('[hx-sse\\\\:connect]')?._htmx?.sse"


def save_price(editor, sql, product_id: int, price: str) -> None:
    """An editor's inline save of a new price (the real write path)."""
    row = sql.one("SELECT version, name, stock, category_id FROM products WHERE id = %s",
                  product_id)
    response = editor.put(f"/editor/products/{product_id}", {
        "version": str(row["version"]), "name": row["name"], "price": price,
        "stock": str(row["stock"]), "category_id": str(row["category_id"]), "is_active": "y",
        "brand": "", "colour": "", "material": "", "size": ""})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_an_open_product_page_shows_the_new_price_after_an_editors_save(
        live_server, page, sql, editor, lamp):
    page.goto(live_server.url + "/products/brass-lamp")
    expect(page.locator(".product-detail-price")).to_have_text("£12.00")
    page.evaluate("window.stillTheSamePage = true")
    page.wait_for_function(CONNECTED)
    save_price(editor, sql, lamp, "9.50")
    expect(page.locator(".product-detail-price")).to_have_text("£9.50", timeout=5000)
    sql.execute("UPDATE products SET stock = 0 WHERE id = %s", lamp)
    expect(page.locator(".product-detail .stock")).to_have_text("Out of stock", timeout=5000)
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.errors == []


def test_listing_cards_follow_price_and_availability(live_server, page, sql, editor, lamp,
                                                     category):
    other = sql.product("Oak Shelf", category_id=category, price="40.00", stock=3)
    page.goto(live_server.url + "/products")
    card = page.locator(".product-card", has_text="Oak Shelf")
    expect(card.locator(".product-price")).to_have_text("£40.00")
    page.wait_for_function(CONNECTED)
    save_price(editor, sql, other, "35.00")
    expect(card.locator(".product-price")).to_have_text("£35.00", timeout=5000)
    sql.execute("UPDATE products SET is_active = false WHERE id = %s", other)
    expect(card.locator(".stock")).to_have_text("No longer available", timeout=5000)
    expect(card.locator(".product-price")).to_have_text("")
    assert page.errors == []


def test_live_updates_connect_when_the_sse_extension_arrives_after_htmx(live_server, page,
                                                                         lamp):
    """htmx initialises the page as soon as it may (a task after its own script when the
    document is parsed): the SSE extension must be registered by then, however late its file
    arrives, or the page never connects (seen on a busy machine: no request to /live/catalog)."""
    def late(route) -> None:
        time.sleep(1.0)  # the extension's file arrives a second after htmx's
        route.continue_()

    page.route("**/ext/hx-sse.js", late)
    page.goto(live_server.url + "/products/brass-lamp")
    page.wait_for_function(CONNECTED, timeout=10_000)
    assert page.errors == []
