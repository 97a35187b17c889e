"""A bulk action above ``BULK_JOB_ROWS`` rows is queued as a background job instead of being
applied in the request: its progress box polls while it runs, survives a reload, and can be
cancelled (CSRF, one-time command key). The worker side is tests/jobs/test_bulk_job.py."""

from __future__ import annotations

import re

import pytest

from tests.support.html import parse


@pytest.fixture
def big_threshold(app, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_JOB_ROWS", 3)  # 4 rows or more run as a job


@pytest.fixture
def lamps(sql, category) -> list[int]:
    return [sql.product(f"Lamp {n}", category_id=category, price="10.00") for n in range(5)]


def queue_price_change(editor, lamps, **kwargs):
    return editor.post("/editor/products/bulk", {
        "action": "price_amount", "value": "1", "scope": "filter", "filter_q": "lamp",
        **kwargs.pop("data", {})}, **kwargs)


def prices(sql) -> list[str]:
    return [str(r["price"]) for r in sql.all("SELECT price FROM products ORDER BY id")]


def the_job(sql) -> dict:
    (job,) = sql.all("SELECT id, kind, state, done, total, params FROM jobs")
    return job


def test_a_large_bulk_change_is_queued_as_a_job_not_applied(editor, sql, lamps, big_threshold):
    response = queue_price_change(editor, lamps)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#jobs"
    job = the_job(sql)
    assert (job["kind"], job["state"], job["done"], job["total"]) == (
        "bulk_change", "queued", 0, 5)
    assert job["params"]["ids"] == sorted(lamps)
    assert sql.scalar("SELECT count(*) FROM procrastinate_jobs WHERE id = %s", job["id"]) == 1
    assert prices(sql) == ["10.00"] * 5  # nothing applied in the request
    box = parse(response.get_data(as_text=True)).by_id(f"job-{job['id']}")
    progress = box.by_id(f"job-{job['id']}-progress")
    assert progress.get("hx-trigger") == "every 1s"  # polls while it runs
    assert "Waiting for a worker: 0 of 5" in box.select("[role=status]")[0].text
    assert box.select("form button")[0].text.strip() == "Cancel this change"


def test_a_small_bulk_change_still_runs_in_the_request(editor, sql, lamps, app, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_JOB_ROWS", 5)
    response = queue_price_change(editor, lamps)
    assert "changed 5 of 5" in response.get_data(as_text=True)
    assert prices(sql) == ["11.00"] * 5
    assert sql.scalar("SELECT count(*) FROM jobs") == 0


def test_a_repeated_submit_queues_one_job(editor, sql, lamps, big_threshold):
    data = {"command_key": "same-key-for-both-submits-0001"}
    first = queue_price_change(editor, lamps, data=data)
    again = queue_price_change(editor, lamps, data=data)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_data() == first.get_data()
    assert sql.scalar("SELECT count(*) FROM jobs") == 1
    assert sql.scalar("SELECT count(*) FROM procrastinate_jobs") == 1


def test_without_javascript_the_form_lands_on_the_jobs_page(editor, sql, lamps, big_threshold):
    response = queue_price_change(editor, lamps, htmx=False)
    job = the_job(sql)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/editor/jobs/{job['id']}")
    page = editor.get(f"/editor/jobs/{job['id']}")
    assert page.status_code == 200
    assert "HX-Request" in page.headers["Vary"]
    html = page.get_data(as_text=True)
    assert "<h1>Bulk change</h1>" in html and "0 of 5 products processed" in html


def test_the_progress_fragment_stops_polling_when_the_job_ends(editor, sql, lamps,
                                                                big_threshold):
    queue_price_change(editor, lamps)
    job_id = the_job(sql)["id"]
    running = editor.get(f"/editor/jobs/{job_id}", htmx=True)
    assert "HX-Request" in running.headers["Vary"]
    assert 'hx-trigger="every 1s"' in running.get_data(as_text=True)
    assert "<h1>" not in running.get_data(as_text=True)  # the fragment, not the page
    sql.execute("UPDATE jobs SET state = 'succeeded', done = 5, outcome = '{\"changed\": 5}'"
                " WHERE id = %s", job_id)
    ended = editor.get(f"/editor/jobs/{job_id}", htmx=True).get_data(as_text=True)
    assert "hx-trigger" not in ended
    assert "Done: changed 5 of 5 products." in ended
    assert f'hx-target="#job-{job_id}-cancel"' in ended  # Cancel goes away


def test_a_reload_shows_the_editors_running_job(editor, sql, lamps, big_threshold):
    queue_price_change(editor, lamps)
    job_id = the_job(sql)["id"]
    page = parse(editor.get("/editor/products").get_data(as_text=True))
    assert page.by_id("jobs").find("section", id=f"job-{job_id}") is not None
    region = editor.get("/editor/products", htmx=True).get_data(as_text=True)
    assert f"job-{job_id}" not in region  # the table region alone does not carry it


def test_cancel_needs_its_key_and_csrf_and_stops_the_job(editor, sql, lamps, big_threshold):
    queue_price_change(editor, lamps)
    job_id = the_job(sql)["id"]
    url = f"/editor/jobs/{job_id}/cancel"
    assert editor.post(url, key=False).status_code == 400
    assert editor.post(url, csrf=False).status_code in (400, 403)
    assert the_job(sql)["state"] == "queued"
    response = editor.post(url)
    assert response.status_code == 200
    assert "Cancelled" in response.get_data(as_text=True)
    assert the_job(sql)["state"] == "cancelled"
    plain = editor.post(url, htmx=False)
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/jobs/{job_id}")


def test_jobs_are_for_signed_in_editors(app, sql, lamps, editor, big_threshold):
    queue_price_change(editor, lamps)
    job_id = the_job(sql)["id"]
    response = app.test_client().get(f"/editor/jobs/{job_id}")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert editor.get("/editor/jobs/999999").status_code == 404
    assert re.search(r"Waiting for a worker", editor.get(f"/editor/jobs/{job_id}").get_data(
        as_text=True))


def test_an_ended_job_offers_the_table_it_was_started_from(editor, sql, lamps, big_threshold):
    queue_price_change(editor, lamps)
    job_id = the_job(sql)["id"]
    sql.execute("UPDATE jobs SET state = 'succeeded', done = 5, outcome = '{\"changed\": 5}'"
                " WHERE id = %s", job_id)
    from_table = editor.get(f"/editor/jobs/{job_id}", htmx=True, headers={
        "HX-Current-URL": 'http://localhost/editor/products?q=lamp&page=2&x="><script>'})
    (link,) = parse(from_table.get_data(as_text=True)).select("a[hx-target='#editor-table']")
    assert link.get("href") == link.get("hx-get") == "/editor/products?q=lamp&page=2"
    elsewhere = editor.get(f"/editor/jobs/{job_id}", htmx=True, headers={
        "HX-Current-URL": "http://localhost/editor/jobs/1"}).get_data(as_text=True)
    assert "#editor-table" not in elsewhere
