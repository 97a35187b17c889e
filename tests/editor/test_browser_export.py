"""In Chromium: the table's "Export … as CSV" link follows the filter as the editor types and
downloads exactly the filtered products; the page stays axe-core clean, desktop and phone."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.support.a11y import axe_violations
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("VITRINE_SCREENSHOTS", "/tmp/vitrine-shots"))


@pytest.fixture
def shop(sql):
    lighting = sql.category("Lighting")
    sql.user("ed@example.com")
    lamps = [sql.product(f"Brass Lamp {n}", category_id=lighting) for n in range(3)]
    sql.product("Steel Trowel", category_id=sql.category("Garden"))
    return lamps


@pytest.mark.parametrize("width", [1280, 390])
def test_the_export_link_downloads_the_filter_being_shown(live_server, page, shop, width,
                                                           tmp_path):
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, "ed@example.com")
    page.fill("input[name=q]", "lamp")
    page.wait_for_selector("#table-summary >> text=3 products")
    link = page.locator(".table-export a")
    assert "q=lamp" in (link.get_attribute("href") or "")
    assert axe_violations(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"export-link-{width}.png"))
    link.focus()  # reachable and activated from the keyboard
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    with saved.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(row["id"]) for row in rows) == sorted(shop)
