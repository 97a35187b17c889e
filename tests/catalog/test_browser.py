"""The catalog in a real browser (Playwright + Debian Chromium against live Hypercorn): live
search without reloads, Back restoring a filtered view, and the page without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def product_names(page):
    return page.locator("#catalog-results .product-name")


def test_typing_a_query_updates_results_without_a_reload(live_server, page, shop):
    page.goto(live_server.url + "/products")
    expect(product_names(page)).to_have_count(7)
    page.evaluate("window.stillTheSamePage = true")

    search = page.locator("#catalog-q")
    search.click()
    search.press_sequentially("brass", delay=40)

    expect(page).to_have_url(re.compile(r"/products\?q=brass$"))
    expect(product_names(page)).to_have_count(2)
    expect(product_names(page).first).to_contain_text("Brass")
    expect(page.locator("#catalog-summary")).to_contain_text("2 products for “brass”")
    assert page.evaluate("window.stillTheSamePage") is True  # no reload happened
    assert page.evaluate("document.activeElement.id") == "catalog-q"  # still typing there
    assert search.input_value() == "brass"
    # Facets followed the search.
    expect(page.locator('#facet-brand input[value="Halden"]')).to_have_count(0)
    assert page.errors == []


def test_two_brands_then_back_restores_the_previous_result(live_server, page, shop):
    page.goto(live_server.url + "/products")
    page.locator('#facet-brand input[value="Halden"]').check()
    expect(page).to_have_url(re.compile(r"\?brand=Halden$"))
    expect(product_names(page)).to_have_count(2)
    # The facets were re-rendered with new counts; focus stayed on the ticked box.
    assert page.evaluate("document.activeElement.value") == "Halden"

    page.locator('#facet-brand input[value="Nordhavn"]').check()
    expect(page).to_have_url(re.compile(r"\?brand=Halden&brand=Nordhavn$"))
    expect(product_names(page)).to_have_count(5)

    page.go_back()
    expect(page).to_have_url(re.compile(r"\?brand=Halden$"))
    expect(product_names(page)).to_have_count(2)
    expect(product_names(page)).to_contain_text(["Oak Reading Lamp", "Linen Floor Lamp"])
    expect(page.locator('#facet-brand input[value="Halden"]')).to_be_checked()
    expect(page.locator('#facet-brand input[value="Nordhavn"]')).not_to_be_checked()

    page.go_forward()
    expect(product_names(page)).to_have_count(5)
    assert page.errors == []


def test_pages_sort_and_removing_a_filter_update_in_place(live_server, page, sql):
    category = sql.category("Bulk")
    for i in range(30):
        sql.product(f"Item {i:02d}", category_id=category, price=str(100 + i),
                    attributes={"brand": "Halden" if i % 2 else "Nordhavn"})
    page.goto(live_server.url + "/products?brand=Halden")
    page.evaluate("window.stillTheSamePage = true")
    page.locator("#catalog-sort").select_option("price_asc")
    expect(page).to_have_url(re.compile(r"brand=Halden&sort=price_asc$"))
    expect(product_names(page).first).to_have_text("Item 01")

    page.locator("#catalog-per-page").select_option("12")
    expect(product_names(page)).to_have_count(12)
    page.locator("#page-next").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(product_names(page).first).to_have_text("Item 25")

    page.locator(".chips a", has_text="Brand: Halden").click()
    expect(page).to_have_url(re.compile(r"/products\?sort=price_asc&per_page=12$"))
    expect(product_names(page).first).to_have_text("Item 00")
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.errors == []


def test_the_page_works_without_javascript(live_server, browser, shop):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/products")
        page.locator("#catalog-q").fill("lamp")
        page.locator(".catalog-searchbar button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"q=lamp"))
        expect(product_names(page)).to_have_count(5)

        page.locator('#facet-brand input[value="Halden"]').check()
        page.locator("#catalog-max-price").fill("90")
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(r"brand=Halden.*max_price=90"))
        expect(product_names(page)).to_have_count(1)
        expect(product_names(page)).to_have_text(["Linen Floor Lamp"])

        page.locator("a.product-link").first.click()
        expect(page.locator("h1")).to_have_text("Linen Floor Lamp")
        page.get_by_role("link", name="Back to results").click()
        expect(product_names(page)).to_have_text(["Linen Floor Lamp"])
        expect(page.locator('#facet-brand input[value="Halden"]')).to_be_checked()

        page.locator(".chips a", has_text="Brand: Halden").click()
        expect(product_names(page)).to_have_count(3)  # every lamp up to 90
    finally:
        context.close()


def test_a_bad_value_while_typing_shows_the_reason_and_keeps_the_results(live_server, page,
                                                                          shop):
    page.goto(live_server.url + "/products")
    page.locator("#catalog-min-price").press_sequentially("-5", delay=40)
    expect(page.locator("#messages")).to_contain_text("Minimum price can't be negative.")
    expect(product_names(page)).to_have_count(7)
    assert "min_price" not in page.url
    # Fixing the value brings results for it and clears the message.
    page.locator("#catalog-min-price").fill("100")
    expect(page).to_have_url(re.compile(r"min_price=100"))
    expect(product_names(page)).to_have_count(3)
    expect(page.locator("#messages")).to_be_empty()
