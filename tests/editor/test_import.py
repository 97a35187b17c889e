"""CSV import from the editor: the dry run's summary and its rejected rows with their line
numbers; applying it as a job (history source ``import``, nothing twice, conflicts reported,
not overwritten); CSRF, command keys and roles. Bad files are tests/editor/test_import_files.py."""

from __future__ import annotations

import pytest

from tests.support.html import parse
from tests.support.imports import (
    apply_form,
    catalog,
    csv_bytes,
    job_id_of,
    row,
    run_import_job,
    summary,
    upload,
)


@pytest.fixture
def cats(sql) -> dict[str, int]:
    return catalog(sql)


def export(editor) -> bytes:
    response = editor.get("/editor/products/export.csv")
    assert response.status_code == 200
    return response.get_data()


def apply(editor, dry_run, **kwargs):
    form = apply_form(dry_run)
    url = form.pop("url")
    return editor.post(url, form, **kwargs)


def test_a_dry_run_counts_every_kind_of_row_and_lists_rejections_by_line(editor, sql, cats):
    same = sql.product("Same Lamp", category_id=cats["lighting"], price="5.00", stock=1)
    moved = sql.product("Desk Lamp", category_id=cats["lighting"], price="9.00")
    data = csv_bytes([
        row(slug="new-lamp", name="New Lamp"),                                   # line 2
        row(id=same, slug="same-lamp", name="Same Lamp", price="5.00", stock=1,
            version=1),                                                          # line 3
        row(id=moved, slug="desk-lamp", name="Desk Lamp", price="11.00", stock=5,
            version=1),                                                          # line 4
        row(slug="bad-price", price="twelve"),                                   # line 5
        row(slug="no-such-category", category="home/nowhere"),                   # line 6
        row(slug="new-lamp", name="Again"),                                      # line 7
    ])
    response = upload(editor, data)
    shown = summary(response)
    assert shown["counts"] == {"To create": 1, "To update": 1, "Unchanged": 1, "Conflicts": 0,
                               "Rejected": 3}
    assert [(line, slug) for line, slug, _ in shown["problems"]] == [
        ("5", "bad-price"), ("6", "no-such-category"), ("7", "new-lamp")]
    reasons = [why for _, _, why in shown["problems"]]
    assert reasons[0].startswith("price: Enter a price as a number")
    assert "no category “home/nowhere”" in reasons[1]
    assert "already on line 2" in reasons[2]
    assert "HX-Request" in response.headers["Vary"]
    assert "<h1>" not in response.get_data(as_text=True)  # the fragment
    # Nothing changed: a dry run only keeps the file.
    assert sql.scalar("SELECT count(*) FROM products") == 2
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 0
    assert sql.scalar("SELECT count(*) FROM import_files") == 1


def test_without_javascript_the_dry_run_is_its_own_page(editor, sql, cats):
    response = upload(editor, csv_bytes([row()]), htmx=False)
    assert response.status_code == 303
    page = editor.get(response.headers["Location"])
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    html = page.get_data(as_text=True)
    assert "<h1>Import products from CSV</h1>" in html
    assert summary(page)["counts"]["To create"] == 1
    partial = editor.get(response.headers["Location"], htmx=True)
    assert "<h1>" not in partial.get_data(as_text=True)
    assert summary(partial)["counts"]["To create"] == 1


def test_the_import_page_has_a_labelled_file_input_both_ways(editor):
    full = editor.get("/editor/products/import")
    page = parse(full.get_data(as_text=True))
    field = page.find("input", type="file", id="import-file")
    assert field is not None and page.select("label[for=import-file]")
    assert page.find("form", id="import-form").get("enctype") == "multipart/form-data"
    partial = editor.get("/editor/products/import", htmx=True).get_data(as_text=True)
    assert "<h1>" not in partial and 'id="import-file"' in partial
    products = parse(editor.get("/editor/products").get_data(as_text=True))
    assert products.find("a", id="import-products").get("href") == "/editor/products/import"


def test_applying_writes_every_change_with_history_source_import(app, editor, sql, cats):
    lamp = sql.product("Desk Lamp", category_id=cats["lighting"], price="9.00",
                       attributes={"brand": "Lumen"})
    dry_run = upload(editor, csv_bytes([
        row(slug="new-lamp", name="New Lamp", brand="Acme", price="3.50"),
        row(id=lamp, slug="desk-lamp", name="Desk Lamp", price="11.00", stock=5,
            brand="Lumen", version=1),
        row(slug="bad", stock="-1"),
    ]))
    response = apply(editor, dry_run)
    assert response.status_code == 200
    job_id = job_id_of(response)
    assert sql.scalar("SELECT state FROM jobs WHERE id = %s", job_id) == "queued"
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 0  # not in the request
    run_import_job(app, job_id)

    job = sql.one("SELECT state, done, total, outcome FROM jobs WHERE id = %s", job_id)
    assert (job["state"], job["done"], job["total"]) == ("succeeded", 3, 3)
    assert job["outcome"] == {"create": 1, "update": 1, "unchanged": 0, "conflict": 0,
                              "rejected": 1, "merged": 0, "changed": 2}
    created = sql.one("SELECT id, name, price, attributes, version FROM products"
                      " WHERE slug = 'new-lamp'")
    assert (created["name"], str(created["price"]), created["attributes"],
            created["version"]) == ("New Lamp", "3.50", {"brand": "Acme"}, 1)
    updated = sql.one("SELECT price, stock, version FROM products WHERE id = %s", lamp)
    assert (str(updated["price"]), updated["stock"], updated["version"]) == ("11.00", 5, 2)
    revisions = sql.all("SELECT product_id, source, version, user_id, changes"
                        " FROM product_revisions ORDER BY product_id")
    editor_id = sql.scalar("SELECT id FROM users WHERE email = 'ed@example.com'")
    assert [(r["product_id"], r["source"], r["version"], r["user_id"]) for r in revisions] == [
        (lamp, "import", 2, editor_id), (created["id"], "import", 1, editor_id)]
    assert revisions[0]["changes"] == {"price": {"before": "9.00", "after": "11.00"},
                                       "stock": {"before": 5, "after": 5}} or revisions[0][
        "changes"] == {"price": {"before": "9.00", "after": "11.00"}}
    assert revisions[1]["changes"]["slug"] == {"before": None, "after": "new-lamp"}
    # The outcome lists the row it could not apply, with its line.
    page = editor.get(f"/editor/jobs/{job_id}").get_data(as_text=True)
    assert "Done: created 1, updated 1" in page and "rejected 1" in page
    (failure,) = parse(page).select(".import-problems tbody tr")
    assert failure.text.startswith("4 bad stock: Stock cannot be negative.")


def test_reimporting_the_exported_file_changes_nothing(app, editor, sql, cats):
    sql.product("=Formula Lamp", category_id=cats["lighting"], description="'quoted",
                slug="formula-lamp", attributes={"brand": "-dash", "size": "M"})
    sql.product("Plain Lamp", category_id=cats["lighting"], price="3.00")
    exported = export(editor)
    shown = summary(upload(editor, exported))
    assert shown["problems"] == []
    assert shown["counts"] == {"To create": 0, "To update": 0, "Unchanged": 2, "Conflicts": 0,
                               "Rejected": 0}
    assert "Nothing to apply" in shown["page"].text
    # An export with one change, applied, then the same file again: nothing more.
    changed = exported.replace(b"Plain Lamp", b"Plain Lamp XL")
    dry_run = upload(editor, changed)
    assert summary(dry_run)["counts"]["To update"] == 1
    run_import_job(app, job_id_of(apply(editor, dry_run)))
    assert sql.scalar("SELECT outcome FROM jobs")["update"] == 1
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 1
    # The same file again: its version is older now, but it asks for what is already there.
    again = summary(upload(editor, changed))
    assert again["counts"]["Unchanged"] == 2 and again["problems"] == []
    fresh = summary(upload(editor, export(editor)))
    assert fresh["counts"]["Unchanged"] == 2
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 1
    assert sql.scalar("SELECT name FROM products WHERE slug = 'formula-lamp'") == "=Formula Lamp"


def test_a_colleagues_change_since_the_export_is_merged_or_reported_never_overwritten(
        app, editor, sql, cats):
    lamp = sql.product("Desk Lamp", category_id=cats["lighting"], price="9.00", stock=5)
    other = sql.product("Floor Lamp", category_id=cats["lighting"], price="20.00", stock=2)
    exported = export(editor)
    # Meanwhile a colleague changes the desk lamp's stock and the floor lamp's price.
    editor.post(f"/editor/products/{lamp}/stock", {"stock": "7", "version": "1"})
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", lamp) == 7
    sql.execute("UPDATE products SET price = 25.00, version = 2 WHERE id = %s", other)
    sql.execute("INSERT INTO product_revisions (product_id, source, version, changes) VALUES"
                " (%s, 'inline', 2, '{\"price\": {\"before\": \"20.00\", \"after\": \"25.00\"}}')",
                other)
    # The file changes the desk lamp's price (merges with the stock) and the floor lamp's price.
    edited = (exported.replace(b",9.00,", b",9.50,").replace(b",20.00,", b",19.00,"))
    dry_run = upload(editor, edited)
    shown = summary(dry_run)
    assert shown["counts"]["To update"] == 1 and shown["counts"]["Conflicts"] == 1
    (conflict,) = shown["problems"]
    assert conflict[1] == "floor-lamp" and conflict[2].startswith("Conflict on price")
    run_import_job(app, job_id_of(apply(editor, dry_run)))
    assert sql.one("SELECT price, stock FROM products WHERE id = %s", lamp) == {
        "price": __import__("decimal").Decimal("9.50"), "stock": 7}
    assert str(sql.scalar("SELECT price FROM products WHERE id = %s", other)) == "25.00"
    outcome = sql.scalar("SELECT outcome FROM jobs")
    assert (outcome["update"], outcome["merged"], outcome["conflict"]) == (1, 1, 1)
    failure = sql.one("SELECT line, item, kind, detail FROM job_failures")
    assert (failure["item"], failure["kind"]) == ("floor-lamp", "conflict")
    assert failure["detail"] == {"price": {"base": "20.00", "file": "19.00", "now": "25.00"}}


def test_apply_needs_csrf_its_key_and_the_digest_the_dry_run_showed(editor, sql, cats):
    dry_run = upload(editor, csv_bytes([row()]))
    form = apply_form(dry_run)
    url = form.pop("url")
    no_token = {k: v for k, v in form.items() if k != "csrf_token"}
    assert editor.post(url, no_token, csrf=False).status_code in (400, 403)
    assert editor.post(url, {k: v for k, v in form.items() if k != "command_key"},
                       key=False).status_code == 400
    tampered = editor.post(url, {**form, "sha256": "0" * 64, "command_key": "k" * 20})
    assert tampered.status_code == 409
    assert "changed since its dry run" in tampered.get_data(as_text=True)
    sql.execute("UPDATE import_files SET content = 'other bytes'")
    changed = editor.post(url, {**form, "command_key": "m" * 20})
    assert changed.status_code == 409
    assert sql.scalar("SELECT count(*) FROM jobs") == 0


def test_a_file_is_applied_once(editor, sql, cats):
    dry_run = upload(editor, csv_bytes([row()]))
    form = apply_form(dry_run)
    url = form.pop("url")
    first = editor.post(url, form)
    replay = editor.post(url, form)  # the same key: the first answer again
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_data() == first.get_data()
    another = editor.post(url, {**form, "command_key": "another-key-0000001"})
    assert another.status_code == 409 and "already applied" in another.get_data(as_text=True)
    assert sql.scalar("SELECT count(*) FROM jobs") == 1
    plain = editor.post(url, {**form, "command_key": "another-key-0000002"}, htmx=False)
    assert plain.status_code == 409


def test_without_javascript_apply_lands_on_the_jobs_page(editor, sql, cats):
    dry_run = upload(editor, csv_bytes([row()]))
    response = apply(editor, dry_run, htmx=False)
    assert response.status_code == 303
    job_id = sql.scalar("SELECT id FROM jobs")
    assert response.headers["Location"].endswith(f"/editor/jobs/{job_id}")
    html = editor.get(f"/editor/jobs/{job_id}").get_data(as_text=True)
    assert "<h1>Import</h1>" in html and "Import of products.csv (1 rows)" in html


def test_import_is_for_signed_in_editors(app, sql, cats):
    anonymous = app.test_client()
    for method, url in (("get", "/editor/products/import"), ("post", "/editor/products/import"),
                        ("get", "/editor/imports/1"), ("post", "/editor/imports/1/apply")):
        response = getattr(anonymous, method)(url)
        assert response.status_code in (302, 400, 401, 403), (method, url)
        if response.status_code == 302:
            assert "/auth/login" in response.headers["Location"]
    assert sql.scalar("SELECT count(*) FROM import_files") == 0


def test_a_missing_dry_run_is_a_404(editor):
    assert editor.get("/editor/imports/999").status_code == 404


def test_a_large_file_is_checked_by_a_job_whose_progress_the_page_polls(app, editor, sql,
                                                                        cats, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", 2)
    data = csv_bytes([row(slug=f"lamp-{n}", name=f"Lamp {n}") for n in range(3)]
                     + [row(slug="bad", price="x")])
    response = upload(editor, data)
    assert response.status_code == 200
    checking = parse(response.get_data(as_text=True)).by_id("import-checking")
    poll = checking.get("hx-get")
    assert poll and checking.get("hx-trigger") == "every 1s"
    assert "Checking: 0 of 5 rows" in checking.text  # lines, until the job has read them
    job = sql.one("SELECT id, kind, state FROM jobs")
    assert (job["kind"], job["state"]) == ("csv_check", "queued")
    assert sql.scalar("SELECT dry_run FROM import_files") is None
    assert "Checking" in editor.get(poll, htmx=True).get_data(as_text=True)
    running = editor.get(f"/editor/jobs/{job['id']}").get_data(as_text=True)
    assert "Dry run of products.csv (5 rows)" in running and "0 of 5 rows checked" in running
    run_import_job(app, job["id"], check=True)
    ended = parse(editor.get(f"/editor/jobs/{job['id']}").get_data(as_text=True))
    assert "Checked: the dry run is ready." in ended.text
    (link,) = [a for a in ended.find_all("a") if a.text == "See the dry run"]
    assert link.get("href") == poll.split("?")[0]
    done = editor.get(poll, htmx=True)
    shown = summary(done)
    assert shown["counts"]["To create"] == 3 and shown["problems"][0][:2] == ("5", "bad")
    assert shown["page"].by_id("import-summary-title").has("data-focus-me")
    assert "hx-trigger" not in done.get_data(as_text=True)  # polling stops
    assert sql.scalar("SELECT count(*) FROM products") == 0  # still only a dry run
    full = editor.get(poll.replace("&poll=1", "").replace("?poll=1", ""))
    assert "<h1>Import products from CSV</h1>" in full.get_data(as_text=True)


def test_a_large_file_with_too_many_rows_says_so_where_its_dry_run_would_be(
        app, editor, sql, cats, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", 2)
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    response = upload(editor, csv_bytes([row(slug=f"lamp-{n}") for n in range(4)]))
    poll = parse(response.get_data(as_text=True)).by_id("import-checking").get("hx-get")
    run_import_job(app, sql.scalar("SELECT id FROM jobs"), check=True)
    ended = editor.get(poll, htmx=True)
    (alert,) = parse(ended.get_data(as_text=True)).select("[role=alert]")
    assert "more than 3 rows" in alert.text and "Nothing was changed" in alert.text
    assert "hx-trigger" not in ended.get_data(as_text=True)
    assert sql.scalar("SELECT count(*) FROM products") == 0


def test_the_upload_form_gets_a_fresh_key_so_a_second_file_is_a_new_dry_run(editor, sql, cats):
    first = upload(editor, csv_bytes([row(slug="first-lamp")]))
    fresh = parse(first.get_data(as_text=True)).find("hx-partial", hx_target="#import-key")
    assert fresh is not None
    (field,) = fresh.select("input[name=command_key]")
    key = field.get("value")
    second = editor.post("/editor/products/import", {
        "command_key": key, "file": (__import__("io").BytesIO(
            csv_bytes([row(slug="second-lamp"), row(slug="third-lamp")])), "b.csv")},
        content_type="multipart/form-data")
    assert second.headers.get("Idempotent-Replayed") is None
    assert summary(second)["counts"]["To create"] == 2
    assert sql.scalar("SELECT count(*) FROM import_files") == 2


def test_a_category_deleted_after_the_dry_run_rejects_its_rows_not_the_job(app, editor, sql,
                                                                             cats):
    dry_run = upload(editor, csv_bytes([row(slug="garden-lamp", category="garden"),
                                        row(slug="home-lamp")]))
    job_id = job_id_of(apply(editor, dry_run))
    sql.execute("DELETE FROM categories WHERE slug = 'garden'")
    run_import_job(app, job_id)
    job = sql.one("SELECT state, outcome FROM jobs")
    assert job["state"] == "succeeded"
    assert (job["outcome"]["create"], job["outcome"]["rejected"]) == (1, 1)
    failure = sql.one("SELECT line, item, reason FROM job_failures")
    assert (failure["line"], failure["item"]) == (2, "garden-lamp")
    assert "category" in failure["reason"]


def test_a_file_changed_after_its_job_was_queued_imports_nothing(app, editor, sql, cats):
    dry_run = upload(editor, csv_bytes([row(slug="garden-lamp"), row(slug="home-lamp")]))
    job_id = job_id_of(apply(editor, dry_run))
    sql.execute("UPDATE import_files SET content = 'other bytes'")
    run_import_job(app, job_id)
    job = sql.one("SELECT state, outcome FROM jobs")
    assert job["state"] == "failed"
    assert "changed since its dry run" in job["outcome"]["error"]
    assert sql.scalar("SELECT count(*) FROM products") == 0


def test_colleagues_may_read_a_dry_run_but_only_its_uploader_or_an_admin_applies_it(
        app, editor, sql, cats):
    from tests.support.clients import sign_in_client

    dry_run = upload(editor, csv_bytes([row(slug="from-ed")]))
    form = apply_form(dry_run)
    url = form.pop("url")
    form.pop("csrf_token")  # each client sends its own session's token
    page_url = url.removesuffix("/apply")
    sql.user("colleague@example.com", role="editor")
    colleague = sign_in_client(app, "colleague@example.com")
    for htmx in (True, False):
        shown = colleague.get(page_url, htmx=htmx)
        assert shown.status_code == 200
        page = parse(shown.get_data(as_text=True))
        assert "To create" in page.text
        assert "Only ed@example.com (who uploaded this file) or an admin can apply it." in page.text
        assert not page.select(f'form[action="{url}"]')
    refused = colleague.post(url, {**form, "command_key": "colleague-key-00001"})
    assert refused.status_code == 403
    assert "Only the editor who uploaded this file" in refused.get_data(as_text=True)
    assert sql.scalar("SELECT count(*) FROM jobs") == 0

    sql.user("boss@example.com", role="admin")
    admin = sign_in_client(app, "boss@example.com")
    assert parse(admin.get(page_url).get_data(as_text=True)).select(f'form[action="{url}"]')
    assert admin.post(url, {**form, "command_key": "admin-key-000000001"}).status_code == 200
    assert sql.scalar("SELECT user_id FROM jobs") == sql.scalar(
        "SELECT id FROM users WHERE email = 'boss@example.com'")
