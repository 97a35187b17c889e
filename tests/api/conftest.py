"""API fixtures: an editor with a token (inserted with plain SQL, hashed as the app stores it),
a small catalog, and helpers for JSON requests."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pytest

EDITOR_EMAIL = "editor@example.com"
EDITOR_PASSWORD = "correct horse battery"


@dataclass
class Editor:
    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def insert_token(sql, user_id: int, raw: str, *, days: int = 30, revoked: bool = False) -> int:
    return sql.scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, expires_at, revoked_at)"
        " VALUES (%s, 'test', %s, now() + make_interval(days => %s),"
        " CASE WHEN %s THEN now() END) RETURNING id",
        user_id, hashlib.sha256(raw.encode()).hexdigest(), days, revoked,
    )


@pytest.fixture
def editor(sql) -> Editor:
    user_id = sql.user(EDITOR_EMAIL, EDITOR_PASSWORD, "editor")
    raw = "vit_" + "e" * 43
    insert_token(sql, user_id, raw)
    return Editor(user_id, EDITOR_EMAIL, raw)


@pytest.fixture
def catalog(sql) -> dict[str, int]:
    lighting = sql.category("Lighting")
    seating = sql.category("Seating")
    return {
        "lighting": lighting,
        "seating": seating,
        "lamp": sql.product("Brass Floor Lamp", category_id=lighting, price="120.00", stock=4,
                            attributes={"brand": "Lumen", "colour": "brass"},
                            description="A tall lamp in brushed brass."),
        "pendant": sql.product("Glass Pendant", category_id=lighting, price="80.00", stock=0,
                               attributes={"brand": "Lumen"}),
        "chair": sql.product("Oak Chair", category_id=seating, price="95.50", stock=12,
                             attributes={"brand": "Nordform", "material": "oak"}),
        "hidden": sql.product("Hidden Stool", category_id=seating, is_active=False),
    }


def send_json(client, method: str, url: str, body, headers=None):
    return client.open(url, method=method, data=json.dumps(body),
                       headers={"Content-Type": "application/json", **(headers or {})})
