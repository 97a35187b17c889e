"""Editor test helpers: signed-in clients with their CSRF token, and running the product
service directly on the app's event loop."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from .clients import EditorClient, sign_in_client

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
    match = re.search(rf'<tr[^>]*id="product-{product_id}".*?</tr>', html, re.S)
    assert match, f"no row for product {product_id} in:\n{html[:2000]}"
    return match.group(0)


def field_value(html: str, key: object, name: str) -> str | None:
    """The value of the row form's input ``f-<key>-<name>``."""
    match = re.search(rf'<input[^>]*id="f-{key}-{name}"[^>]*>', html)
    assert match, f"no input f-{key}-{name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None


def field_error(html: str, key: object, name: str) -> str | None:
    """The error message shown next to the row form's field, if any."""
    match = re.search(rf'<span class="field-error" id="err-{key}-{name}">([^<]*)</span>', html)
    return match.group(1) if match else None
