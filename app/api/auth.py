"""Who is calling the API: a Bearer token for everything that changes data.

A cookie session alone never authorizes an API write: the write views read only the
``Authorization`` header, so a cross-site form or script riding on an editor's cookie gets 401.
That is also why the API blueprint is exempt from CSRF checks; the one view that does use the
session (issuing a token) checks the CSRF token itself.
"""

from __future__ import annotations

from flask import g, request

from ..auth.sessions import CurrentUser, current_user
from ..data.database import get_session
from .http import ApiError
from .tokens import Bearer, authenticate

WWW_AUTHENTICATE = 'Bearer realm="vitrine-api"'
EDIT_ROLES = ("editor", "admin")


def _bearer_value() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "Use an Authorization: Bearer <token> header.",
                       headers={"WWW-Authenticate": WWW_AUTHENTICATE})
    return value.strip()


async def optional_bearer() -> Bearer | None:
    """The caller's token identity, None without a token; 401 for a token that is not valid."""
    if "api_bearer" in g:
        return g.api_bearer
    raw = _bearer_value()
    bearer = None
    if raw is not None:
        bearer = await authenticate(await get_session(), raw)
        if bearer is None:
            raise ApiError(401, "The token is invalid, expired or revoked.",
                           headers={"WWW-Authenticate":
                                    f'{WWW_AUTHENTICATE}, error="invalid_token"'})
    g.api_bearer = bearer
    return bearer


async def require_editor_token() -> Bearer:
    """An editor's (or admin's) valid token, else 401 (or 403 for another role)."""
    bearer = await optional_bearer()
    if bearer is None:
        raise ApiError(401, "This needs an API token: Authorization: Bearer <token>.",
                       headers={"WWW-Authenticate": WWW_AUTHENTICATE})
    if bearer.role not in EDIT_ROLES:
        raise ApiError(403, "Your role cannot change products.")
    return bearer


async def session_editor() -> CurrentUser:
    """The editor signed in through the cookie session (only for managing tokens), else 401/403."""
    user = await current_user()
    if user is None:
        raise ApiError(401, "Sign in as an editor to manage API tokens.")
    if user.role not in EDIT_ROLES:
        raise ApiError(403, "Your role cannot use the API.")
    return user
