"""Arrange-and-assert helpers: rows inserted and read with plain SQL, so a test's setup does not
depend on the code under test."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.data.passwords import hash_password

_FAST_HASHES: dict[str, str] = {}


class Sql:
    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection

    def all(self, query: str, *params: Any) -> list[dict[str, Any]]:
        with self.connection.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(query, params or None).fetchall()

    def one(self, query: str, *params: Any) -> dict[str, Any]:
        rows = self.all(query, *params)
        assert len(rows) == 1, f"expected one row, got {len(rows)}"
        return rows[0]

    def scalar(self, query: str, *params: Any) -> Any:
        return next(iter(self.one(query, *params).values()))

    def execute(self, query: str, *params: Any) -> None:
        self.connection.execute(query, params or None)

    def category(self, name: str, slug: str | None = None, parent_id: int | None = None) -> int:
        slug = slug or name.lower().replace(" ", "-")
        return self.scalar(
            "INSERT INTO categories (name, slug, parent_id) VALUES (%s, %s, %s) RETURNING id",
            name, slug, parent_id,
        )

    def product(self, name: str, *, category_id: int, price: str | Decimal = "10.00",
                stock: int = 5, is_active: bool = True, description: str = "",
                attributes: dict[str, Any] | None = None, slug: str | None = None,
                created_at: str | None = None) -> int:
        slug = slug or name.lower().replace(" ", "-")
        return self.scalar(
            "INSERT INTO products (name, slug, description, price, stock, is_active, attributes,"
            " category_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
            " coalesce(%s::timestamptz, now())) RETURNING id",
            name, slug, description, Decimal(price), stock, is_active,
            json.dumps(attributes or {}), category_id, created_at,
        )

    def user(self, email: str, password: str = "correct horse battery", role: str = "editor",  # noqa: S107
             is_active: bool = True) -> int:
        if password not in _FAST_HASHES:
            _FAST_HASHES[password] = hash_password(password)
        return self.scalar(
            "INSERT INTO users (email, password_hash, role, is_active) VALUES (%s, %s, %s, %s)"
            " RETURNING id",
            email, _FAST_HASHES[password], role, is_active,
        )
