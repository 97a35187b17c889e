"""The browser harness: Playwright + Debian Chromium against a live Hypercorn server."""

import pytest

pytestmark = pytest.mark.browser


def test_catalog_page_loads_with_htmx_4_active(live_server, page, sql):
    category = sql.category("Lighting")
    sql.product("Brass Floor Lamp", category_id=category)
    page.goto(live_server.url + "/products")
    assert page.locator("text=Brass Floor Lamp").is_visible()
    version = page.evaluate("() => window.htmx && htmx.version")
    assert version is not None and version.startswith("4."), version
    page.wait_for_function("() => document.readyState === 'complete'")
    assert page.errors == []
