"""In Chromium, with a real job worker: a bulk change above ``BULK_JOB_ROWS`` shows a progress
box that reports the outcome when the worker is done, and survives a reload; axe-core clean,
desktop and phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.a11y import axe_violations
from tests.support.browser import sign_in
from tests.support.job_worker import JobWorker
from tests.support.live import start_server

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("VITRINE_SCREENSHOTS", "/tmp/vitrine-shots"))


@pytest.fixture
def server(database_url, tmp_path):
    live = start_server(database_url, tmp_path, env={"VITRINE_BULK_JOB_ROWS": "2"})
    yield live
    live.stop()


@pytest.fixture
def shop(sql):
    lighting = sql.category("Lighting")
    sql.user("ed@example.com")
    return [sql.product(f"Brass Lamp {n}", category_id=lighting, price="10.00")
            for n in range(4)]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_large_bulk_change_shows_its_progress_and_outcome(server, page, shop, sql, width,
                                                            database_url, tmp_path):
    page.set_default_timeout(20_000)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server.url, "ed@example.com")
    page.fill("input[name=q]", "lamp")
    page.wait_for_selector("#table-summary >> text=4 products")
    page.select_option("#bulk-action", "price_amount")
    page.fill("#bulk-value", "1")
    page.check("input[name=scope][value=filter]")
    page.click("#bulk-apply")
    status = page.locator("#jobs .job [role=status]")
    status.wait_for()
    assert "Waiting for a worker: 0 of 4" in status.inner_text()  # no worker yet
    assert axe_violations(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"job-queued-{width}.png"))
    worker = JobWorker(database_url, tmp_path / "worker.log", batch_rows=2)
    try:
        page.wait_for_selector("#jobs .job >> text=Done: changed 4 of 4 products.")
    finally:
        worker.stop()
    assert page.locator("#jobs .job form").count() == 0  # nothing left to cancel
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]
    page.click("text=Show the table as it is now")  # the table is not redrawn unasked
    page.wait_for_selector(f"#product-{shop[0]} >> text=11.00")
    page.screenshot(path=str(SHOTS / f"job-done-{width}.png"))
    page.reload()
    assert "Done: changed 4 of 4" in page.locator("#jobs .job [role=status]").inner_text()
    prices = {str(row["price"]) for row in sql.all("SELECT price FROM products")}
    assert prices == {"11.00"}
