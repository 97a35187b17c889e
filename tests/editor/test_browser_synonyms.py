"""The synonyms page in a real browser (issue 13): add a group from the keyboard, see a refusal
under the form, delete a group; axe-core clean, at desktop and phone width."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.a11y import axe_violations
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


def page_errors(page, *allowed: str) -> list[str]:
    """Console errors, less axe-core's refused inline styles and the expected statuses."""
    return [e for e in page.errors if "Applying inline style violates" not in e
            and not any(a in e for a in allowed)]


@pytest.mark.parametrize("width", [1280, 390])
def test_add_refuse_and_delete_synonyms_by_keyboard(live_server, page, sql, width):
    sql.user("ed@example.com")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, "ed@example.com", next_="/editor/synonyms")
    words = page.locator("#synonym-words")
    words.focus()
    page.keyboard.type("basin, Sink")
    page.keyboard.press("Enter")
    expect(page.locator("#synonyms tbody td", has_text="basin, sink")).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("Added the synonyms “basin, sink”.")
    assert page.evaluate("document.activeElement.id") == "synonym-words"  # ready for the next
    assert words.input_value() == ""

    words.fill("sofa")
    page.keyboard.press("Enter")
    expect(page.locator("#synonym-new-error")).to_have_text(
        "Enter at least two different words, separated by commas.")
    expect(page.locator("#synonym-words")).to_have_attribute("aria-invalid", "true")
    assert page_errors(page, "status of 422") == []
    assert axe_violations(page) == []
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"synonyms-{width}.png"))

    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("#synonyms tbody tr", has_text="basin, sink")
    row.get_by_role("button", name="Delete the synonyms basin, sink").click()
    expect(row).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text("Deleted the synonyms “basin, sink”.")
    assert "basin, sink" not in [r["words"] for r in sql.all("SELECT words FROM search_synonyms")]
