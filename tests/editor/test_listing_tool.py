"""The editor list as a tool: honest counts ("about", rounded as the shopper side rounds),
numbered pages with first, last and a jump, sortable headers, pages past the end, and the main
path without JavaScript (an Edit link that keeps the filter, saving back to that list)."""

from __future__ import annotations

import pytest

from app.catalog.page_query import Total
from tests.support.html import parse

from .conftest import row_html


@pytest.fixture
def many(sql, category):
    """360 products (8 pages of 50), newest last."""
    sql.execute(
        "INSERT INTO products (name, slug, price, stock, category_id, created_at)"
        " SELECT 'Lamp ' || lpad(n::text, 3, '0'), 'lamp-' || n, n, 1, %s,"
        " '2026-01-01'::timestamptz + n * interval '1 minute' FROM generate_series(1, 360) n",
        category)
    return 360


def summary(html: str) -> str:
    return parse(html).by_id("table-summary").text


def page_links(html: str) -> list[str]:
    return [link.text.replace("Page ", "") for link in parse(html).select(".pager ul a")]


def test_an_estimate_reads_about_rounded_like_the_shopper_side(editor, sql, category,
                                                              monkeypatch):
    from app.editor import listing

    sql.product("Brass Lamp", category_id=category)

    async def estimated(session, filt, **kwargs):
        return Total(100_040, exact=False)  # what the planner said for 100,000 rows

    monkeypatch.setattr(listing, "count_products", estimated)
    html = editor.get("/editor/products", htmx=True).get_data(as_text=True)
    assert summary(html) == "About 100,000 products · page 1 of about 2,000"


def test_exact_counts_are_exact(editor, many):
    html = editor.get("/editor/products?page=2", htmx=True).get_data(as_text=True)
    assert summary(html) == "360 products · page 2 of 8"


def test_an_estimate_past_the_real_end_shows_the_last_page_counted(editor, sql, category,
                                                                   monkeypatch):
    from app.editor import listing

    for n in range(3):
        sql.product(f"Lamp {n}", category_id=category)
    original = listing.count_products

    async def overshooting(session, filt, **kwargs):
        if "exact_limit" in kwargs:
            return await original(session, filt, **kwargs)
        return Total(5_000, exact=False)

    monkeypatch.setattr(listing, "count_products", overshooting)
    html = editor.get("/editor/products?page=40", htmx=True).get_data(as_text=True)
    assert summary(html) == "3 products"
    assert len(parse(html).select("td.editable.name")) == 3
    assert "There is only 1 page, so this is the last one." in html


def test_numbered_pages_first_last_window_and_a_jump(editor, many):
    response = editor.get("/editor/products?status=active&page=6", htmx=True)
    html = response.get_data(as_text=True)
    assert page_links(html) == ["Previous", "1", "4", "5", "6", "7", "8", "Next"]
    doc = parse(html)
    current = doc.find("a", aria_current="page")
    assert current.text == "Page 6"
    assert current.get("href") == "/editor/products?status=active&page=6"
    assert doc.find("a", rel="next").get("href") == "/editor/products?status=active&page=7"
    assert "show:top" in current.get("hx-swap")  # paging scrolls to the table's top
    jump = doc.find("form", class_="page-jump")
    assert jump.get("method") == "get" and jump.get("action") == "/editor/products"
    assert jump.find("input", name="status").get("value") == "active"
    assert jump.find("input", name="page").get("max") == "8"
    assert doc.find("span", class_="gap") is not None
    # The jump is an ordinary GET: page 3, same filter.
    jumped = editor.get("/editor/products?status=active&page=3", htmx=True)
    assert "page 3 of 8" in summary(jumped.get_data(as_text=True))


def test_a_page_out_of_range_is_the_last_page_with_a_notice(editor, many):
    for page in ("9", "99999999999"):
        html = editor.get(f"/editor/products?page={page}", htmx=True).get_data(as_text=True)
        assert summary(html) == "360 products · page 8 of 8"
        assert "There are only 8 pages, so this is the last one." in html
        assert [c.text for c in parse(html).select("td.editable.name")][:1] == ["Lamp 010"]


def test_sortable_headers_are_links_with_aria_sort(editor, many):
    html = editor.get("/editor/products?q=lamp&sort=price_asc", htmx=True).get_data(as_text=True)
    doc = parse(html)
    price = doc.find("th", aria_sort="ascending")
    assert price is not None and "Price" in price.text
    # Clicking the sorted column reverses it; every header is a real URL keeping the filter.
    assert price.find("a").get("href") == "/editor/products?q=lamp&sort=price_desc"
    name = next(th for th in doc.select("th.sortable") if "Name" in th.text)
    assert not name.has("aria-sort")
    assert name.find("a").get("href") == "/editor/products?q=lamp&sort=name"
    cells = [c.text for c in doc.select("td.editable.price")]
    assert cells[:3] == ["1.00", "2.00", "3.00"]
    descending = editor.get("/editor/products?q=lamp&sort=price_desc", htmx=True)
    doc = parse(descending.get_data(as_text=True))
    assert doc.find("th", aria_sort="descending") is not None
    assert [c.text for c in doc.select("td.editable.price")][:2] == ["360.00", "359.00"]


def test_a_bad_sort_key_says_so_and_sorts_newest_first(editor, many):
    html = editor.get("/editor/products?sort=drop%20table", htmx=True).get_data(as_text=True)
    assert "That sort order is not known, so the newest products come first." in html
    assert [c.text for c in parse(html).select("td.editable.name")][:1] == ["Lamp 360"]
    assert parse(html).find("th", aria_sort="ascending") is None


def test_the_full_page_has_the_pages_headers_and_a_skip_link(editor, many):
    response = editor.get("/editor/products?page=2")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<!doctype html>" in html
    doc = parse(html)
    assert doc.find("a", class_="skip-link", href="#products-table") is not None
    assert doc.find("nav", class_="pager") is not None and "page 2 of 8" in summary(html)
    assert doc.find("dialog", id="confirm-dialog") is not None
    assert doc.find(id="bulk-confirmation") is not None


# -- without JavaScript ---------------------------------------------------------------------------

def test_rows_have_real_links_and_forms(editor, sql, category):
    lamp = sql.product("Brass Lamp", category_id=category)
    html = editor.get("/editor/products?q=brass", htmx=True).get_data(as_text=True)
    row = parse(row_html(html, lamp))
    edit = row.find("a", class_="edit")
    assert edit.get("href") == f"/editor/products/{lamp}/edit?next=/editor/products?q%3Dbrass"
    forms = {form.get("action"): form.get("method") for form in row.find_all("form")}
    assert forms == {f"/editor/products/{lamp}/active": "post",
                     f"/editor/products/{lamp}/duplicate": "post",
                     f"/editor/products/{lamp}/delete": "post"}
    assert not row.find_all("button", type="button")  # nothing that needs JavaScript to work


def test_edit_page_saves_back_to_the_filtered_list(editor, sql, category):
    lamp = sql.product("Brass Lamp", category_id=category, price="10.00")
    page = editor.get(f"/editor/products/{lamp}/edit?next=/editor/products?q%3Dbrass")
    doc = parse(page.get_data(as_text=True))
    assert doc.find("input", name="next").get("value") == "/editor/products?q=brass"
    back = doc.select("main p a")[0]
    assert back.get("href") == "/editor/products?q=brass"
    data = {"version": "1", "name": "Brass Lamp", "price": "11.00", "stock": "5",
            "category_id": str(category), "is_active": "y", "next": "/editor/products?q=brass"}
    response = editor.post(f"/editor/products/{lamp}", data, htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"] == "/editor/products?q=brass"
    listing = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved “Brass Lamp”." in listing


@pytest.mark.parametrize("evil", ["//evil.example/x", "https://evil.example/",
                                  "/auth/logout", "/editor/users"])
def test_next_only_ever_returns_to_the_products_list(editor, sql, category, evil):
    lamp = sql.product("Brass Lamp", category_id=category)
    data = {"version": "1", "name": "Brass Lamp", "price": "11.00", "stock": "5",
            "category_id": str(category), "is_active": "y", "next": evil}
    response = editor.post(f"/editor/products/{lamp}", data, htmx=False)
    assert response.headers["Location"] == "/editor/products"


def test_duplicate_active_and_delete_work_as_plain_forms(editor, sql, category):
    lamp = sql.product("Brass Lamp", category_id=category)
    back = {"next": "/editor/products?q=brass"}
    duplicated = editor.post(f"/editor/products/{lamp}/duplicate", back, htmx=False)
    assert duplicated.status_code == 303
    assert duplicated.headers["Location"] == "/editor/products?q=brass"
    assert sql.scalar("SELECT count(*) FROM products") == 2
    deleted = editor.post(f"/editor/products/{lamp}/delete", {"version": "1", **back},
                          htmx=False)
    assert deleted.status_code == 303
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", lamp) is False
    shown = editor.post(f"/editor/products/{lamp}/active", {"version": "2", "is_active": "1",
                                                            **back}, htmx=False)
    assert shown.status_code == 303 and shown.headers["Location"] == "/editor/products?q=brass"
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", lamp) is True
    assert "Saved “Brass Lamp”." in editor.get("/editor/products").get_data(as_text=True)


def test_a_row_action_over_htmx_notes_its_outcome_in_the_row(editor, sql, category):
    lamp = sql.product("Brass Lamp", category_id=category)
    data = {"version": "1", "name": "Brass Lamp", "price": "11.00", "stock": "5",
            "category_id": str(category), "is_active": "y"}
    html = editor.put(f"/editor/products/{lamp}", data).get_data(as_text=True)
    row = parse(row_html(html, lamp))
    notice = row.find(class_="row-notice")
    assert notice.get("role") == "status" and notice.text == "Saved “Brass Lamp”."
    assert row.find("a", class_="edit").has("data-focus-me")  # focus back on this row's Edit
    cancel = editor.get(f"/editor/products/{lamp}/row", htmx=True).get_data(as_text=True)
    assert parse(cancel).find("a", class_="edit").has("data-focus-me")


def test_empty_filter_fields_are_not_reported_as_ignored(editor, many):
    html = editor.get("/editor/products?q=&status=&sort=&stock=&min_price=",
                      htmx=True).get_data(as_text=True)
    assert "is not known" not in html and "not a price" not in html
