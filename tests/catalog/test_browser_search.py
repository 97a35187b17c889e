"""Search in a real browser (issue 13): a category name finds its products and offers the
refinement, per-word "Did you mean", the any-word fallback notice and the empty state's ways
into the catalog - typed as a shopper would, checked with axe-core, at desktop and phone width."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.a11y import axe_violations

from .conftest import seed_demo_products

pytestmark = pytest.mark.browser

#: Where screenshots go when ``SCREENSHOT_DIR`` is set (for people to look at; never compared).
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


def page_errors(page) -> list[str]:
    """The page's errors, less the inline styles axe-core itself tries (the CSP refuses them)."""
    return [e for e in page.errors if "Applying inline style violates" not in e]


def product_names(page):
    return page.locator("#catalog-results .product-name")


@pytest.fixture
def demo(sql):
    return seed_demo_products(sql, 400)


@pytest.mark.parametrize("width", [1280, 390])
def test_audio_shows_audio_products_and_the_refinement(live_server, page, demo, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/products")
    search = page.locator("#catalog-q")
    search.click()
    search.press_sequentially("audio", delay=30)
    expect(page).to_have_url(re.compile(r"/products\?q=audio$"))
    refinement = page.locator(".refinements a").first
    expect(refinement).to_contain_text(re.compile(r"^Audio — \d+ products"))
    expect(product_names(page).first).to_be_visible()
    metas = page.locator("#catalog-results .product-meta").all_inner_texts()
    audio = {"Headphones", "Speakers", "Turntables", "Accessories"}
    assert metas and all(meta.split(" · ")[0] in audio for meta in metas), metas
    assert page_errors(page) == []
    assert axe_violations(page) == []
    shot(page, f"search-audio-{width}")

    refinement.focus()
    page.keyboard.press("Enter")  # a keyboard user can take it too
    expect(page).to_have_url(re.compile(r"/products\?q=audio&category=audio$"))
    expect(page.locator('input[name="category"][value="audio"]')).to_be_checked()
    expect(page.locator(".refinements a")).to_have_count(0)
    assert page_errors(page) == []


@pytest.mark.parametrize("width", [1280, 390])
def test_walnutt_lampp_suggests_walnut_lamp(live_server, page, demo, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/products")
    search = page.locator("#catalog-q")
    search.click()
    search.press_sequentially("walnutt lampp", delay=30)
    suggestion = page.locator(".suggestion a")
    expect(suggestion).to_have_text("walnut lamp")
    # The empty state keeps the facets and offers categories to browse.
    expect(page.locator(".browse-categories a", has_text="Lighting")).to_be_visible()
    expect(page.locator('#facet-category input[value="lighting"]')).to_be_enabled()
    assert page_errors(page) == []
    assert axe_violations(page) == []
    shot(page, f"search-typo-{width}")
    suggestion.click()
    expect(page).to_have_url(re.compile(r"/products\?q=walnut\+lamp$"))
    expect(product_names(page).first).to_contain_text(re.compile("walnut", re.I))
    assert page_errors(page) == []


def test_the_any_word_fallback_notice_is_shown_and_accessible(live_server, page, demo):
    page.goto(live_server.url + "/products?q=velvet+spaceship")
    expect(page.locator("#catalog-summary .notices")).to_contain_text(
        "No product matches all of “velvet spaceship”, so these match any of its words.")
    expect(product_names(page).first).to_contain_text(re.compile("velvet", re.I))
    assert page_errors(page) == []
    assert axe_violations(page) == []
    shot(page, "search-fallback-1280")
    assert page_errors(page) == []
