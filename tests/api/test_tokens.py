"""Tokens: issued to a signed-in editor (CSRF-checked) or by the CLI, stored hashed, listed
without secrets, revocable, expiring."""

from __future__ import annotations

import hashlib

from app.api.tokens import authenticate, hash_token
from tests.support.clients import signed_in

from .conftest import EDITOR_EMAIL, send_json


def signed_in_csrf(client) -> str:
    signed_in(client, EDITOR_EMAIL)
    response = client.get("/api/v1/tokens")
    assert response.status_code == 200
    return response.headers["X-CSRFToken"]


def test_signed_in_editor_gets_a_token_shown_once_and_stored_hashed(client, sql, editor):
    csrf = signed_in_csrf(client)
    response = send_json(client, "POST", "/api/v1/tokens", {"name": "price sync", "days": 7},
                         {"X-CSRFToken": csrf})
    assert response.status_code == 201, response.json
    raw = response.json["token"]
    assert raw.startswith("vit_") and len(raw) > 40
    assert response.headers["Cache-Control"] == "no-store"
    row = sql.one("SELECT token_hash, name, expires_at - created_at AS life FROM api_tokens"
                  " WHERE id = %s", response.json["id"])
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(sql.all("SELECT * FROM api_tokens"))
    assert row["life"].days == 7 and row["name"] == "price sync"
    listed = client.get("/api/v1/tokens").json["items"]
    assert {item["name"] for item in listed} == {"test", "price sync"}
    assert all("token" not in item for item in listed)
    # The new token works for writes.
    product = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {raw}"})
    assert product.status_code == 200


def test_issuing_without_csrf_is_refused(client, sql, editor):
    signed_in(client, EDITOR_EMAIL)
    response = send_json(client, "POST", "/api/v1/tokens", {"name": "no csrf"})
    assert response.status_code == 400 and response.is_json
    assert sql.scalar("SELECT count(*) FROM api_tokens") == 1


def test_issuing_needs_a_session_not_a_token(client, sql, editor):
    anonymous = send_json(client, "POST", "/api/v1/tokens", {"name": "x"})
    assert anonymous.status_code == 401
    by_token = send_json(client, "POST", "/api/v1/tokens", {"name": "x"}, editor.headers)
    assert by_token.status_code == 403
    assert sql.scalar("SELECT count(*) FROM api_tokens") == 1


def test_token_request_is_validated(client, editor):
    csrf = signed_in_csrf(client)
    response = send_json(client, "POST", "/api/v1/tokens", {"name": "", "days": 1000},
                         {"X-CSRFToken": csrf})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"name", "days"}


def test_revoked_token_stops_working(client, sql, editor, catalog):
    token_id = sql.scalar("SELECT id FROM api_tokens")
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=editor.headers).status_code == 204
    assert sql.scalar("SELECT revoked_at IS NOT NULL FROM api_tokens") is True
    after = client.delete(f"/api/v1/products/{catalog['lamp']}", headers=editor.headers)
    assert after.status_code == 401


def test_an_editor_cannot_revoke_someone_elses_token(client, sql, editor):
    from .conftest import insert_token

    other = sql.user("other@example.com")
    other_token = insert_token(sql, other, "vit_" + "o" * 43)
    response = client.delete(f"/api/v1/tokens/{other_token}", headers=editor.headers)
    assert response.status_code == 404
    assert sql.scalar("SELECT revoked_at FROM api_tokens WHERE id = %s", other_token) is None


def test_session_revoke_needs_csrf(client, sql, editor):
    token_id = sql.scalar("SELECT id FROM api_tokens")
    signed_in(client, EDITOR_EMAIL)
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 400
    csrf = client.get("/api/v1/tokens").headers["X-CSRFToken"]
    assert client.delete(f"/api/v1/tokens/{token_id}",
                         headers={"X-CSRFToken": csrf}).status_code == 204


def test_cli_issues_a_working_token_once(app, sql):
    from click.testing import CliRunner

    from app import create_app

    sql.user("cli@example.com")
    cli_app = create_app("testing", DATABASE_URL=app.config["DATABASE_URL"])
    result = CliRunner().invoke(cli_app.cli, ["tokens", "create", "cli@example.com", "--name",
                                              "nightly import", "--days", "3"])
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip().splitlines()[0]
    row = sql.one("SELECT token_hash, name, expires_at - created_at AS life FROM api_tokens")
    assert row["token_hash"] == hash_token(raw)
    assert row["name"] == "nightly import" and row["life"].days == 3

    async def check():
        from app.data.database import get_database

        with app.app_context():
            async with get_database().session() as session:
                return await authenticate(session, raw)

    assert app.run_blocking(check()) is not None


def test_cli_refuses_unknown_user(app):
    from click.testing import CliRunner

    from app import create_app

    cli_app = create_app("testing", DATABASE_URL=app.config["DATABASE_URL"])
    result = CliRunner().invoke(cli_app.cli, ["tokens", "create", "nobody@example.com",
                                              "--name", "x"])
    assert result.exit_code != 0 and "no user" in result.output
