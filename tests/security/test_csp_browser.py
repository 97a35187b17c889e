"""The pages run under the Content-Security-Policy in a real browser: htmx 4 loads and works,
and the console shows no CSP violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def violations(page) -> list[str]:
    return [error for error in page.errors
            if "Content Security Policy" in error or "Content-Security-Policy" in error
            or "unsafe-eval" in error or "unsafe-inline" in error]


def watch_csp(page) -> list[str]:
    reports: list[str] = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text
            and reports.append(msg.text))
    page.add_init_script("document.addEventListener('securitypolicyviolation', e =>"
                         " console.error('Content Security Policy violation: ' +"
                         " e.violatedDirective + ' ' + e.blockedURI))")
    return reports


def test_catalog_page_runs_htmx_under_the_csp(live_server, page, sql):
    category = sql.category("Lighting")
    sql.product("Brass Floor Lamp", category_id=category)
    sql.product("Glass Pendant", category_id=category)
    watch_csp(page)
    response = page.goto(live_server.url + "/products")
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    page.wait_for_function("() => window.htmx && document.readyState === 'complete'")
    names = page.locator("#main .product-name")
    expect(names).to_have_count(2)
    # An htmx request on the page (the way the catalog updates results) under the policy: only
    # the swapped-in search results leave the pendant alone, and the page was not reloaded.
    page.evaluate("() => { window.beforeSwap = true; htmx.ajax('GET', '/products?q=pendant',"
                  " {target: '#main', swap: 'innerHTML'}) }")
    expect(names).to_have_text(["Glass Pendant"])
    assert page.evaluate("() => window.beforeSwap") is True
    assert violations(page) == [] and page.errors == []


def test_sign_in_page_runs_under_the_csp(live_server, page, sql):
    watch_csp(page)
    page.goto(live_server.url + "/auth/login")
    page.wait_for_function("() => window.htmx && document.readyState === 'complete'")
    assert page.locator("input[type=password]").count() == 1
    assert violations(page) == [] and page.errors == []


def test_an_inline_script_would_be_blocked(live_server, page):
    """The policy is really enforced: an injected inline script does not run."""
    watch_csp(page)
    page.goto(live_server.url + "/products")
    with page.expect_console_message(lambda msg: "Content Security Policy" in msg.text):
        page.evaluate("() => { const s = document.createElement('script');"
                      " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }")
    assert page.evaluate("() => window.injected") is None
    assert any("Content Security Policy" in error for error in page.errors)
