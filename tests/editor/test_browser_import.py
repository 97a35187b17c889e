"""In Chromium, with a real job worker: an editor chooses a CSV on the import page, the
dry run lists its bad row (line and reason) with the focus on the summary, Apply shows the
job's progress and then its outcome, which a reload keeps; a refused file says why in place.
Keyboard only where it matters; axe-core clean, desktop and phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.a11y import axe_violations
from tests.support.browser import sign_in
from tests.support.imports import catalog, csv_bytes, row
from tests.support.job_worker import JobWorker
from tests.support.live import start_server

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("VITRINE_SCREENSHOTS", "/tmp/vitrine-shots"))


@pytest.fixture
def server(database_url, tmp_path):
    live = start_server(database_url, tmp_path)
    yield live
    live.stop()


@pytest.fixture
def shop(sql):
    cats = catalog(sql)
    sql.user("ed@example.com")
    return sql.product("Desk Lamp", category_id=cats["lighting"], price="9.00")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_dry_run_lists_the_bad_row_and_applying_shows_progress_and_outcome(
        server, page, shop, sql, width, database_url, tmp_path):
    page.set_default_timeout(20_000)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server.url, "ed@example.com")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"import-link-{width}.png"))
    page.click("#import-products")
    page.wait_for_url("**/editor/products/import")
    assert axe_violations(page) == []
    data = csv_bytes([
        row(id=shop, slug="desk-lamp", name="Desk Lamp", price="9.50", stock=5, version=1),
        row(slug="new-lamp", name="New Lamp"),
        row(slug="bad-lamp", name="Bad Lamp", price="-3"),
    ], delimiter=";", bom=True)
    csv_path = tmp_path / "lamps.csv"
    csv_path.write_bytes(data)
    page.set_input_files("#import-file", str(csv_path))
    assert "Chosen: lamps.csv" in page.locator("#import-file-name").inner_text()
    page.click("#import-form button[type=submit]")
    heading = page.locator("#import-summary-title")
    heading.wait_for()
    page.wait_for_function("() => document.activeElement.id === 'import-summary-title'")
    problems = page.locator(".import-problems tbody tr")
    assert problems.count() == 1
    assert problems.first.inner_text().split("\t")[:2] == ["4", "bad-lamp"]
    assert "Price cannot be negative" in problems.first.inner_text()
    counts = page.locator(".import-counts").inner_text()
    assert "To create\n1" in counts and "To update\n1" in counts and "Rejected\n1" in counts
    assert axe_violations(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"import-dry-run-{width}.png"), full_page=True)
    assert sql.scalar("SELECT count(*) FROM products") == 1  # nothing applied yet

    page.click("#import-apply button")
    status = page.locator("#import-apply .job [role=status]")
    status.wait_for()
    assert "Waiting for a worker: 0 of 3 rows" in status.inner_text()
    page.wait_for_function("() => document.activeElement.classList.contains('job-title')")
    page.screenshot(path=str(SHOTS / f"import-queued-{width}.png"), full_page=True)
    worker = JobWorker(database_url, tmp_path / "worker.log", batch_rows=2)
    try:
        page.wait_for_selector("#import-apply .job >> text=Done: created 1, updated 1")
    finally:
        worker.stop()
    result = page.locator("#import-apply .job")
    assert "rejected 1" in result.inner_text()
    assert "Bad Lamp" not in result.inner_text() and "bad-lamp" in result.inner_text()
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]
    page.screenshot(path=str(SHOTS / f"import-done-{width}.png"), full_page=True)
    assert "/editor/imports/" in page.url  # the address follows the file
    page.reload()  # the file's page keeps its job and outcome
    assert "Done: created 1, updated 1" in page.locator("#import-apply .job").inner_text()
    assert str(sql.scalar("SELECT price FROM products WHERE id = %s", shop)) == "9.50"


def test_a_refused_file_says_why_in_place(server, page, shop, tmp_path):
    page.set_default_timeout(20_000)
    sign_in(page, server.url, "ed@example.com", next_="/editor/products/import")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("slug,name\ncafé,Café\n".encode("latin-1"))
    page.set_input_files("#import-file", str(bad))
    page.click("#import-form button[type=submit]")
    alert = page.locator("#import-result [role=alert]")
    alert.wait_for()
    assert "not UTF-8 text" in alert.inner_text()
    page.wait_for_function("() => document.activeElement.id === 'import-error'")
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / "import-refused-1280.png"))


def test_a_file_dropped_on_the_zone_is_the_one_checked(server, page, shop):
    page.set_default_timeout(20_000)
    sign_in(page, server.url, "ed@example.com", next_="/editor/products/import")
    text = csv_bytes([row(slug="dropped-lamp", name="Dropped Lamp")]).decode()
    page.evaluate("""(text) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], "dropped.csv", {type: "text/csv"}));
        const zone = document.getElementById("import-drop");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,
                                                    cancelable: true}));
        }
    }""", text)
    assert page.locator("#import-file-name").inner_text() == "Chosen: dropped.csv"
    assert page.evaluate("document.activeElement.id") == "import-file"
    page.click("#import-form button[type=submit]")
    page.locator("#import-summary-title >> text=Dry run of dropped.csv").wait_for()
    assert "To create\n1" in page.locator(".import-counts").inner_text()
    # The form stays: another file is another dry run (its fresh one-time key came along).
    page.set_input_files("#import-file", {"name": "second.csv", "mimeType": "text/csv",
                                          "buffer": csv_bytes([row(slug="a-lamp"),
                                                               row(slug="b-lamp")])})
    page.click("#import-form button[type=submit]")
    page.locator("#import-summary-title >> text=Dry run of second.csv").wait_for()
    assert "To create\n2" in page.locator(".import-counts").inner_text()

