"""Signing in and out: credentials, the session cookie, ``next``, CSRF, throttling."""

from __future__ import annotations

import pytest

from app.auth.redirects import safe_next
from app.auth.views import BAD_CREDENTIALS
from tests.support.clients import PASSWORD, sign_in, sign_in_client
from tests.support.html import csrf_token


def test_the_sign_in_page_is_a_form_with_a_csrf_token(client):
    response = client.get("/auth/login?next=/editor/products%3Fq%3Dlamp")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="email"' in html and 'type="password"' in html
    assert 'name="csrf_token"' in html
    assert 'value="/editor/products?q=lamp"' in html


def test_correct_credentials_sign_in_and_open_the_editor(client, sql):
    sql.user("ed@example.com")
    response = sign_in(client, "ED@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/products"
    assert client.get("/editor/products").status_code == 200
    assert sql.scalar("SELECT last_login_at IS NOT NULL FROM users") is True


def test_the_session_cookie_is_httponly_and_samesite_lax(client, sql):
    sql.user("ed@example.com")
    cookie = sign_in(client, "ed@example.com").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(database_url):
    """The session cookie a production server sends is marked Secure (and HttpOnly, Lax)."""
    from app import create_app

    production = create_app("production", DATABASE_URL=database_url, SECRET_KEY="s" * 40)
    try:
        response = production.test_client().get("/auth/login")  # stores the CSRF token
    finally:
        production.close()
    name, _, attributes = response.headers["Set-Cookie"].partition(";")
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in attributes.split(";")}
    assert name.startswith(production.config["SESSION_COOKIE_NAME"] + "=")
    assert "secure" in flags and "httponly" in flags and flags["samesite"] == "SameSite=Lax"


@pytest.mark.parametrize("email,password", [
    ("ed@example.com", "wrong password!"),
    ("nobody@example.com", PASSWORD),
    ("", PASSWORD),
])
def test_wrong_credentials_get_one_message_that_does_not_say_which_part(client, sql, email,
                                                                           password):
    sql.user("ed@example.com")
    response = sign_in(client, email, password)
    html = response.get_data(as_text=True)
    if email:
        assert response.status_code == 401
        assert BAD_CREDENTIALS in html
    else:
        assert response.status_code == 422
        assert "Enter your email." in html
    assert 'value="wrong password!"' not in html  # the password is never echoed back
    assert client.get("/editor/products").status_code == 302


def test_a_deactivated_account_cannot_sign_in(client, sql):
    sql.user("ed@example.com", is_active=False)
    response = sign_in(client, "ed@example.com")
    assert response.status_code == 401
    assert BAD_CREDENTIALS in response.get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
    "editor/products", "/ok\r\nSet-Cookie: x=1",
])
def test_next_only_redirects_to_local_paths(client, sql, target):
    sql.user("ed@example.com")
    response = sign_in(client, "ed@example.com", next_=target)
    assert response.headers["Location"] == "/editor/products"


def test_next_to_a_local_page_is_followed(client, sql):
    sql.user("ed@example.com")
    response = sign_in(client, "ed@example.com", next_="/editor/products?status=inactive")
    assert response.headers["Location"] == "/editor/products?status=inactive"


def test_safe_next_rules():
    assert safe_next("/a/b?c=d#e", "/d") == "/a/b?c=d#e"
    for bad in (None, "", "http://x", "//x", "/\\x", "/a\\b", "x", "/a\x00", "/" + "a" * 2001):
        assert safe_next(bad, "/d") == "/d"


def test_signing_in_rotates_the_session(client, sql):
    sql.user("ed@example.com")
    client.get("/auth/login")
    before = client.get_cookie("session").value
    sign_in(client, "ed@example.com")
    after = client.get_cookie("session").value
    assert before != after
    # The pre-login CSRF token was dropped with the old session.
    with client.session_transaction() as session:
        assert set(session) <= {"uid", "auth", "csrf_token", "_fresh"}


def test_signing_out_ends_the_session_even_for_a_copied_cookie(app, sql):
    sql.user("ed@example.com")
    editor = sign_in_client(app, "ed@example.com")
    stolen = editor.client.get_cookie("session").value
    response = editor.post("/auth/logout", htmx=False)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert editor.client.get("/editor/products").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/editor/products").status_code == 302


def test_sign_out_without_a_csrf_token_is_refused(app, sql):
    sql.user("ed@example.com")
    editor = sign_in_client(app, "ed@example.com")
    response = editor.post("/auth/logout", htmx=False, csrf=False)
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert editor.client.get("/editor/products").status_code == 200


def test_sign_in_without_a_csrf_token_is_refused(client, sql):
    sql.user("ed@example.com")
    response = client.post("/auth/login", data={"email": "ed@example.com",
                                                "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/editor/products").status_code == 302


def test_a_password_change_ends_existing_sessions(app, sql):
    from app.data.passwords import hash_password

    sql.user("ed@example.com")
    editor = sign_in_client(app, "ed@example.com")
    sql.execute("UPDATE users SET password_hash = %s", hash_password("another password"))
    assert editor.client.get("/editor/products").status_code == 302


def test_deactivating_a_user_ends_their_session(app, sql):
    sql.user("ed@example.com")
    editor = sign_in_client(app, "ed@example.com")
    sql.execute("UPDATE users SET is_active = false")
    response = editor.get("/editor/products", htmx=True)
    assert response.status_code == 401


def test_a_tampered_cookie_is_not_a_session(app, sql):
    sql.user("ed@example.com")
    other = sql.user("ad@example.com", role="admin")
    editor = sign_in_client(app, "ed@example.com")
    with editor.client.session_transaction() as session:  # re-signed with the real key
        session["uid"] = other
    assert editor.client.get("/editor/users").status_code == 302


def test_an_account_is_locked_after_five_failures_even_with_the_right_password(client, sql):
    sql.user("ed@example.com")
    for _ in range(5):
        assert sign_in(client, "ed@example.com", "wrong password!").status_code == 401
    response = sign_in(client, "ed@example.com")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert client.get("/editor/products").status_code == 302


def test_the_lock_is_per_account_whatever_the_address(client, sql):
    sql.user("ed@example.com")
    sql.user("other@example.com")
    for n in range(5):
        sign_in(client, "ed@example.com", "wrong password!", environ={"REMOTE_ADDR": f"10.0.0.{n}"})
    assert sign_in(client, "ed@example.com", environ={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429
    assert sign_in(client, "other@example.com").status_code == 302


def test_an_address_is_locked_after_twenty_failures_across_accounts(client, sql):
    sql.user("ed@example.com")
    for n in range(20):
        sign_in(client, f"guess{n}@example.com", "wrong password!",
              environ={"REMOTE_ADDR": "10.1.1.1"})
    assert sign_in(client, "ed@example.com", environ={"REMOTE_ADDR": "10.1.1.1"}).status_code \
        == 429
    assert sign_in(client, "ed@example.com", environ={"REMOTE_ADDR": "10.2.2.2"}).status_code \
        == 302


def test_a_successful_sign_in_forgets_earlier_failures(client, sql):
    sql.user("ed@example.com")
    for _ in range(4):
        sign_in(client, "ed@example.com", "wrong password!")
    assert sign_in(client, "ed@example.com").status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(
        client.get("/editor/products").data)})
    for _ in range(4):
        sign_in(client, "ed@example.com", "wrong password!")
    assert sign_in(client, "ed@example.com").status_code == 302


def test_an_unknown_account_locks_like_a_real_one(client, sql):
    for _ in range(5):
        sign_in(client, "ghost@example.com", "wrong password!")
    response = sign_in(client, "ghost@example.com", "wrong password!")
    assert response.status_code == 429  # same answer as a real account: nothing revealed


def test_signed_in_users_opening_the_login_page_go_to_next(app, sql):
    sql.user("ed@example.com")
    editor = sign_in_client(app, "ed@example.com")
    response = editor.get("/auth/login?next=/editor/products?status=active")
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/products?status=active"
