"""Deactivating a user ends their API tokens for good: reactivation does not revive them."""

from __future__ import annotations

from tests.support.clients import sign_in_client

from .conftest import send_json
from .test_tokens import signed_in_csrf


def test_a_reactivated_user_s_old_token_stays_dead_and_a_new_one_works(app, client, sql,
                                                                        editor):
    sql.user("admin@example.com", role="admin")
    admin = sign_in_client(app, "admin@example.com")
    assert client.get("/api/v1/products", headers=editor.headers).status_code == 200

    for wanted in ("0", "1"):  # deactivate, then reactivate
        response = admin.post(f"/editor/users/{editor.id}/active", {"is_active": wanted})
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert sql.scalar("SELECT is_active FROM users WHERE id = %s", editor.id) is True

    old = client.get("/api/v1/products", headers=editor.headers)
    assert old.status_code == 401 and old.is_json
    csrf = signed_in_csrf(client)  # the reactivated editor signs in and asks for a new token
    issued = send_json(client, "POST", "/api/v1/tokens", {"name": "after reactivation"},
                       {"X-CSRFToken": csrf})
    assert issued.status_code == 201, issued.json
    fresh = {"Authorization": f"Bearer {issued.json['token']}"}
    assert app.test_client().get("/api/v1/products", headers=fresh).status_code == 200
    assert app.test_client().get("/api/v1/products", headers=editor.headers).status_code == 401
