"""The accounts the load signs in with: editor accounts for the editor journey and, for the API
journey, editor accounts with a fresh Bearer token each. Created (or refreshed with a new
password) through the app's own data layer, so passwords are hashed and tokens stored exactly as
the app does it."""

from __future__ import annotations

import secrets

from sqlalchemy import update

DOMAIN = "loadtest.vitrine.test"
TOKEN_DAYS = 1


def editor_emails(count: int) -> list[str]:
    return [f"editor-{n:02d}@{DOMAIN}" for n in range(1, count + 1)]


def api_emails(count: int) -> list[str]:
    return [f"api-{n:02d}@{DOMAIN}" for n in range(1, count + 1)]


def prepare(database_url: str, *, editors: int, api_clients: int) -> tuple[
        list[str], str, list[str], list[str], dict[str, int]]:
    """Make sure the accounts exist and are active editors with a new password; issue API
    tokens. Returns (editor emails, password, API emails, API tokens, {email: user id})."""
    from app import create_app
    from app.api.tokens import issue_token
    from app.data.models import User
    from app.data.passwords import hash_password_async
    from app.data.users import create_user, find_user_by_email

    password = secrets.token_urlsafe(18)
    editor_list, api_list = editor_emails(editors), api_emails(api_clients)
    app = create_app("development", DATABASE_URL=database_url)
    database = app.extensions["vitrine_db"]

    async def run() -> tuple[list[str], dict[str, int]]:
        async with database.session() as session:
            ids: dict[str, int] = {}
            password_hash = await hash_password_async(password)
            for email in editor_list + api_list:
                user = await find_user_by_email(session, email)
                if user is None:
                    user = await create_user(session, email, password, "editor")
                else:
                    await session.execute(update(User).where(User.id == user.id).values(
                        password_hash=password_hash, role="editor", is_active=True))
                ids[email] = user.id
            tokens = []
            for email in api_list:
                user = await find_user_by_email(session, email)
                _token, raw = await issue_token(session, user, "load test", TOKEN_DAYS)
                tokens.append(raw)
            await session.commit()
            return tokens, ids

    try:
        tokens, ids = app.run_blocking(run())
    finally:
        app.close()
    return editor_list, password, api_list, tokens, ids
