"""Issuing and revoking API tokens.

A token is issued to a signed-in editor only (cookie session, CSRF-checked): a token can never
mint another token, so a leaked one cannot outlive its own expiry. Listing and revoking accept
either the session or a token (a token holder can revoke a leaked token with itself).
"""

from __future__ import annotations

from flask import url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, generate_csrf

from ..data.bounds import MAX_INT
from ..data.database import get_session
from ..data.models import User
from ..extensions import csrf
from .auth import optional_bearer, session_editor
from .blueprint import bp
from .http import ApiError, json_response, read_json, validate
from .responses import TokenList
from .schemas import TokenCreate
from .serializers import serialize_new_token, serialize_token
from .tokens import TokenError, issue_token, list_tokens, revoke_token


async def _caller_id() -> int:
    bearer = await optional_bearer()
    if bearer is not None:
        return bearer.user_id
    return (await session_editor()).id


def _check_csrf() -> None:
    try:
        csrf.protect()
    except CSRFError as error:
        raise ApiError(400, error.description) from None


@bp.get("/tokens")
async def tokens_index() -> ResponseReturnValue:
    """The caller's tokens. A session caller also gets ``X-CSRFToken`` for its next POST or
    DELETE (a header another origin cannot read, like a page's meta tag)."""
    bearer = await optional_bearer()
    user_id = await _caller_id()
    tokens = await list_tokens(await get_session(), user_id)
    response = json_response(TokenList(items=[serialize_token(token) for token in tokens]))
    response.headers["Cache-Control"] = "no-store"
    if bearer is None:
        response.headers["X-CSRFToken"] = generate_csrf()
    return response


@bp.post("/tokens")
async def tokens_create() -> ResponseReturnValue:
    if await optional_bearer() is not None:
        raise ApiError(403, "Tokens are issued to a signed-in editor, not to another token.")
    user = await session_editor()
    _check_csrf()
    body = validate(TokenCreate, read_json())
    session = await get_session()
    account = await session.get(User, user.id)
    if account is None:  # deleted since the session was read
        raise ApiError(401, "Sign in as an editor to manage API tokens.")
    try:
        token, raw = await issue_token(session, account, body.name, body.days)
    except TokenError as error:
        raise ApiError(422, str(error), fields={}) from None
    await session.commit()
    response = json_response(serialize_new_token(token, raw), 201)
    response.headers["Location"] = url_for("api.tokens_index")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/tokens/<int:token_id>")
async def tokens_revoke(token_id: int) -> ResponseReturnValue:
    bearer = await optional_bearer()
    if bearer is None:
        await session_editor()
        _check_csrf()
    user_id = await _caller_id()
    session = await get_session()
    if not 0 < token_id <= MAX_INT or not await revoke_token(session, token_id, user_id):
        raise ApiError(404, "No active token with that id.")
    await session.commit()
    return "", 204
