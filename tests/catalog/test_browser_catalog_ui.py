"""The catalog's UI in Chromium: the search box's suggestions by keyboard alone (the ARIA
combobox pattern), long facet lists, the phone's filter sheet without a flash (layout shift
measured on a slowed CPU), the price inputs after a swap, the sort menu under the arrow keys,
and axe-core on each state."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.support.a11y import axe_violations

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def product_names(page):
    return page.locator("#catalog-results .product-name")


def suggestions(page, **kwargs):
    """The options of the search box's listbox (not the menus' <option>s)."""
    return page.locator("#catalog-suggestions").get_by_role("option", **kwargs)


def catalog_requests(page):
    """Requests to /products itself (the searches), recorded from now on."""
    seen: list[str] = []
    page.on("request", lambda r: re.search(r"/products(\?|$)", r.url) and seen.append(r.url))
    return seen


def test_the_combobox_works_by_keyboard_alone(live_server, page, shop):
    page.goto(live_server.url + "/products")
    search = page.locator("#catalog-q")
    listbox = page.locator("#catalog-suggestions")
    expect(search).to_have_attribute("role", "combobox")
    expect(search).to_have_attribute("aria-expanded", "false")
    search.focus()
    page.keyboard.type("lamp", delay=40)

    expect(listbox).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    expect(search).to_have_attribute("aria-controls", "catalog-suggestions")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(7)
    expect(page.locator("#catalog-suggest-status")).to_contain_text("7 suggestions")
    # Typing still runs the live search underneath.
    expect(page).to_have_url(re.compile(r"q=lamp"))
    expect(product_names(page)).to_have_count(5)
    assert axe_violations(page) == []

    page.keyboard.press("ArrowDown")
    first = options.nth(0)
    expect(search).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    expect(first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    second = options.nth(1)
    expect(search).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    expect(first).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    expect(search).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    assert page.evaluate("document.activeElement.id") == "catalog-q"  # focus never left

    # Escape closes the list and keeps the text; ArrowDown opens it again.
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(search).not_to_have_attribute("aria-activedescendant", re.compile(".+"))
    assert search.input_value() == "lamp"
    page.keyboard.press("ArrowDown")
    expect(listbox).to_be_visible()
    expect(first).to_have_attribute("aria-selected", "true")

    # Enter on a category ticks that facet and searches for it instead of the text.
    expect(first).to_contain_text("Floor Lamps")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/products\?category=lighting-floor-lamps$"))
    expect(product_names(page)).to_have_count(3)
    expect(page.locator('#facet-category input[value="lighting-floor-lamps"]')).to_be_checked()
    expect(listbox).to_be_hidden()
    assert search.input_value() == ""
    assert page.evaluate("document.activeElement.id") == "catalog-q"
    assert page.errors == []


def test_enter_on_a_product_opens_its_page_and_a_brand_ticks_the_brand(live_server, page, shop):
    page.goto(live_server.url + "/products")
    page.locator("#catalog-q").focus()
    page.keyboard.type("oak d", delay=40)
    option = suggestions(page, name=re.compile("Oak Dining Chair"))
    expect(option).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/products/oak-dining-chair$"))
    expect(page.locator("h1")).to_have_text("Oak Dining Chair")

    # Text that matches nothing closes the list (no stale options from the text before).
    page.goto(live_server.url + "/products")
    page.locator("#catalog-q").focus()
    page.keyboard.type("oak", delay=40)
    expect(suggestions(page)).to_have_count(2)
    page.keyboard.type("zz", delay=40)
    expect(page.locator("#catalog-suggest-status")).to_have_text("No suggestions.")
    expect(page.locator("#catalog-suggestions")).to_be_hidden()
    expect(suggestions(page)).to_have_count(0)
    page.keyboard.press("ArrowDown")
    expect(page.locator("#catalog-suggestions")).to_be_hidden()

    page.goto(live_server.url + "/products?category=furniture")
    page.locator("#catalog-q").focus()
    page.keyboard.type("nordh", delay=40)
    expect(suggestions(page).first).to_contain_text("Nordhavn")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    # The brand is added to what was already chosen.
    expect(page).to_have_url(re.compile(r"category=furniture&brand=Nordhavn$"))
    expect(product_names(page)).to_have_text(["Leather Lounge Chair"])
    assert page.errors == []


def test_show_more_reveals_every_brand_and_the_list_search_filters_it(live_server, page, sql):
    category = sql.category("Mixed")
    brands = [f"Brand {letter}" for letter in "ABCDEFGHIJKL"]
    for i, brand in enumerate(brands):
        sql.product(f"Thing {i}", category_id=category, attributes={"brand": brand},
                    slug=f"thing-{i}")
    page.goto(live_server.url + "/products")
    boxes = page.locator("#facet-brand input[type=checkbox]")
    expect(boxes).to_have_count(12)
    visible = [box.is_visible() for box in boxes.all()]
    assert visible == [True] * 6 + [False] * 6
    more = page.locator("#facet-brand summary")
    expect(more).to_have_text(re.compile(r"Show 6 more"))
    more.focus()
    page.keyboard.press("Enter")  # a <summary> works by keyboard
    assert all(box.is_visible() for box in boxes.all())
    expect(more).to_have_text(re.compile("Show fewer"))

    # Ticking a folded brand re-renders the facets; the list stays open, the focus stays.
    page.locator('#facet-brand input[value="Brand K"]').check()
    expect(page).to_have_url(re.compile(r"brand=Brand\+K"))
    expect(product_names(page)).to_have_text(["Thing 10"])
    assert all(box.is_visible() for box in boxes.all())
    assert page.evaluate("document.activeElement.value") == "Brand K"
    # Unticked, nothing folded is selected any more: the list stays open as the shopper left it.
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"/products$"))
    expect(product_names(page)).to_have_count(12)
    assert all(box.is_visible() for box in boxes.all())
    assert page.evaluate("document.activeElement.value") == "Brand K"

    # The search box inside the list.
    finder = page.locator("#facet-search-brand")
    finder.fill("brand c")
    assert [box.get_attribute("value") for box in boxes.all() if box.is_visible()] == ["Brand C"]
    expect(page.locator("#facet-search-brand-status")).to_have_text("1 match")
    finder.press("Enter")  # does not submit the search
    finder.fill("")
    assert all(box.is_visible() for box in boxes.all())
    assert axe_violations(page) == []
    assert page.errors == []


def measure_layout_shift(page, url):
    """Cumulative layout shift of loading ``url`` (layout-shift entries without recent input,
    observed from the first paint), on a CPU slowed four times and with scripts arriving half a
    second late, as over a phone's network: the page is painted before any script runs, so a
    layout a script corrects shows (the panel folded on DOMContentLoaded measured 0.66)."""
    def late(route):
        time.sleep(0.5)
        route.continue_()

    page.route("**/*.js", late)
    page.context.add_init_script("""
        window.__layoutShift = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) {
            if (!entry.hadRecentInput) window.__layoutShift += entry.value;
          }
        }).observe({type: "layout-shift", buffered: true});
    """)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.goto(url, wait_until="load")
    page.wait_for_timeout(1000)
    shift = page.evaluate("window.__layoutShift")
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    page.unroute("**/*.js")
    return shift


def test_on_a_phone_the_filters_are_a_sheet_that_never_flashes(live_server, browser, shop):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        shift = measure_layout_shift(page, live_server.url + "/products?brand=Halden&in_stock=1")
        assert shift < 0.1, f"layout shift {shift:.3f} while loading"
        sheet = page.locator("#catalog-filters")
        expect(sheet).to_be_hidden()
        toggle = page.locator("#catalog-filters-toggle")
        expect(toggle).to_have_text(re.compile(r"Filters\s*2 active"))
        # Sort and page size share one line.
        sort, per_page = page.locator("#catalog-sort").bounding_box(), \
            page.locator("#catalog-per-page").bounding_box()
        assert abs(sort["y"] - per_page["y"]) < 4 and per_page["x"] + per_page["width"] <= 390
        assert axe_violations(page) == []

        toggle.click()
        expect(sheet).to_be_visible()
        show = page.locator("#catalog-show-results")
        expect(show).to_have_text("Show 1 result")
        expect(show).to_be_in_viewport()  # sticky at the bottom of the sheet
        assert axe_violations(page) == []
        # The count follows the filters live.
        page.locator("#catalog-in-stock").uncheck()
        expect(show).to_have_text("Show 2 results")
        expect(toggle).to_have_text(re.compile(r"Filters\s*1 active"))
        show.click()
        expect(sheet).to_be_hidden()
        expect(product_names(page)).to_have_count(2)
        # The focus moves to the results once the sheet has closed (the results may already
        # have been swapped in while the filters changed, so wait for the focus itself).
        expect(page.locator("#catalog-main")).to_be_focused()

        # Escape closes it too, and the focus goes back to the button.
        toggle.click()
        expect(sheet).to_be_visible()
        page.keyboard.press("Escape")
        expect(sheet).to_be_hidden()
        expect(toggle).to_be_focused()

        # The suggestions on a phone.
        page.locator("#catalog-q").focus()
        page.keyboard.type("lamp", delay=40)
        expect(page.locator("#catalog-suggestions")).to_be_visible()
        expect(page).to_have_url(re.compile(r"[?&]q=lamp\b"))  # the results followed too
        assert axe_violations(page) == []
        assert page.errors == []
    finally:
        context.close()


def test_on_a_wide_screen_the_filters_are_a_sidebar(live_server, page, shop):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/products")
    expect(page.locator("#catalog-filters")).to_be_visible()
    expect(page.locator("#catalog-filters-toggle")).to_be_hidden()
    expect(page.locator("#catalog-show-results")).to_be_hidden()
    assert axe_violations(page) == []


def test_the_price_inputs_show_the_swapped_values(live_server, page, shop):
    page.goto(live_server.url + "/products")
    page.locator("#catalog-min-price").press_sequentially("25", delay=40)
    expect(page).to_have_url(re.compile(r"min_price=25"))
    page.locator("#catalog-max-price").press_sequentially("10", delay=40)
    expect(page).to_have_url(re.compile(r"min_price=10&max_price=25$"))
    expect(page.locator("#catalog-summary")).to_contain_text("so we swapped them")
    expect(page.locator("#catalog-min-price")).to_have_value("10")
    expect(page.locator("#catalog-max-price")).to_have_value("25")
    expect(product_names(page)).to_have_count(0)  # nothing between £10 and £25 in this shop
    assert page.errors == []


def test_arrow_keys_on_the_sort_menu_search_once(live_server, page, shop):
    page.goto(live_server.url + "/products")
    searches = catalog_requests(page)
    page.locator("#catalog-sort").focus()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(100)
    expect(page).to_have_url(re.compile(r"sort=name$"))
    page.wait_for_timeout(800)  # long enough for any further search to start
    assert len(searches) == 1 and searches[0].endswith("sort=name&per_page=24")
    assert page.evaluate("document.activeElement.id") == "catalog-sort"


def test_a_link_replaced_under_the_focus_hands_it_to_the_results(live_server, browser, shop):
    """A removed filter's chip, "Clear all filters" and a price band are links the swap itself
    replaces: the focus goes on to the results (from their top), not back to the page's start.
    Within the phone's open filter sheet it goes to "Show N results" instead."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(live_server.url + "/products?brand=Nordhavn&brand=Halden")
        results = page.locator("#catalog-main")
        page.locator(".chips a.chip", has_text="Brand: Halden").focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/products\?brand=Nordhavn$"))
        expect(results).to_be_focused()
        top = page.evaluate("document.getElementById('catalog-main').getBoundingClientRect().top")
        assert -1 < top < 900  # its top in view

        band = page.locator(".price-bands a.band-label").first
        band.focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"min_price=25&max_price=49\.99$"))
        expect(results).to_be_focused()
        page.keyboard.press("Tab")  # on into the results, not back to the page's first link
        assert page.evaluate("document.activeElement.closest('#catalog-main') !== null")

        page.locator(".chips a.chip-clear").focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/products$"))
        expect(results).to_be_focused()
        assert axe_violations(page) == []
        assert page.errors == []
    finally:
        context.close()

    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/products")
        page.locator("#catalog-filters-toggle").click()
        expect(page.locator("#catalog-filters")).to_be_visible()
        page.locator(".price-bands a.band-label").first.focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"min_price=25&max_price=49\.99$"))
        show = page.locator("#catalog-show-results")
        expect(show).to_be_focused()
        expect(show).to_have_text("Show 2 results")
        expect(page.locator("#catalog-filters")).to_be_visible()  # the sheet stays open
    finally:
        context.close()
