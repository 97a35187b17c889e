"""Editor test helpers: signed-in clients with their CSRF token, and running the product
service directly on the app's event loop."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.support.clients import EditorClient, sign_in_client
from tests.support.html import parse

__all__ = ["EditorClient"]


@pytest.fixture(autouse=True)
def _fresh_login_throttle(app):
    from app.auth.throttle import get_throttle

    with app.app_context():
        throttle = get_throttle()
    app.run_blocking(throttle.reset())


@pytest.fixture
def category(sql) -> int:
    return sql.category("Lighting")


@pytest.fixture
def editor(app, sql) -> EditorClient:
    sql.user("ed@example.com", role="editor")
    return sign_in_client(app, "ed@example.com")


@pytest.fixture
def admin(app, sql) -> EditorClient:
    sql.user("ad@example.com", role="admin")
    return sign_in_client(app, "ad@example.com")


@pytest.fixture
def run_db(run_db) -> Callable[[Callable[[Any], Awaitable[Any]]], Any]:
    """The service tests keep what they do: ``fn(session)`` is committed if it returns."""
    return functools.partial(run_db, commit=True)


def row_html(html: str, product_id: int) -> str:
    """The ``<tr id="product-N">`` element's HTML in a response."""
    row = parse(html).find("tr", id=f"product-{product_id}")
    assert row is not None, f"no row for product {product_id} in:\n{html[:2000]}"
    return row.html


def field_value(html: str, key: object, name: str) -> str | None:
    """The value of the row form's input ``f-<key>-<name>``."""
    field = parse(html).find("input", id=f"f-{key}-{name}")
    assert field is not None, f"no input f-{key}-{name}"
    return field.get("value")


def field_error(html: str, key: object, name: str) -> str | None:
    """The error message shown next to the row form's field, if any."""
    error = parse(html).find("span", class_="field-error", id=f"err-{key}-{name}")
    return error.text if error else None


def conflict_rows(html: str) -> dict[str, tuple[str, str]]:
    """The fields a 409 asks about: ``{form field: (mine, theirs)}`` as the editor reads them."""
    rows = {}
    for row in parse(html).select("table.conflict-table tr.differs"):
        mine, theirs = row.find("td", class_="mine"), row.find("td", class_="theirs")
        assert mine is not None and theirs is not None
        rows[row.get("data-field") or ""] = (mine.text, theirs.text)
    return rows


def hidden_values(html: str, form_id: str) -> dict[str, str]:
    """The hidden inputs a form sends (inside it or tied to it by ``form=``)."""
    page = parse(html)
    values = {}
    for field in page.find_all("input", type="hidden"):
        inside = page.find("form", id=form_id)
        if field.get("form") == form_id or (inside is not None and field.node in
                                            inside.node.descendants):
            values[field.get("name") or ""] = field.get("value") or ""
    return values
