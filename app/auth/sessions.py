"""Who is signed in: the signed session cookie and its server-side check.

Flask's session is a signed cookie (HttpOnly, SameSite=Lax, Secure in production); the server
keeps no copy, so "signing out everywhere" needs a value the server *can* change. The cookie
holds the user id and an *auth hash*: an HMAC (keyed with ``SECRET_KEY``) of the user's id,
their ``session_generation`` and their password hash. Every request recomputes it, so a cookie
stops working when

* the user signs out (the generation is bumped: all their sessions end, on every device),
* their password changes (the password hash differs),
* an admin changes their role or deactivates them (the generation is bumped; inactive users are
  refused anyway).

Signing in clears the session first (rotation: a session fixed before sign-in carries nothing
over, including its CSRF token). What is read and written in the database is
:mod:`app.data.sessions`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app, g, session
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.database import get_session
from ..data.sessions import end_all_sessions, load_auth_state, record_sign_in

_USER_KEY = "uid"
_AUTH_KEY = "auth"
_CACHE = "_vitrine_current_user"


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user, as checked at the start of this request."""

    id: int
    email: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def auth_hash(user_id: int, generation: int, password_hash: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{user_id}:{generation}:{password_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def sign_in(db: AsyncSession, user_id: int) -> None:
    """Start a fresh session for ``user_id`` (call after the password was verified)."""
    state = await load_auth_state(db, user_id)
    if state is None:
        raise LookupError(f"no user {user_id} to sign in")
    session.clear()
    session[_USER_KEY] = user_id
    session[_AUTH_KEY] = auth_hash(user_id, state.session_generation, state.password_hash)
    await record_sign_in(db, user_id)
    g.pop(_CACHE, None)


async def sign_out(db: AsyncSession) -> None:
    user_id = session.get(_USER_KEY)
    if isinstance(user_id, int):
        await end_all_sessions(db, user_id)
    session.clear()
    g.pop(_CACHE, None)


async def current_user() -> CurrentUser | None:
    """The signed-in, active user whose cookie is still valid, or None (cached per request)."""
    if _CACHE in g:
        cached: CurrentUser | None = g.get(_CACHE)
        return cached
    user = await _load_current_user()
    setattr(g, _CACHE, user)
    return user


async def _load_current_user() -> CurrentUser | None:
    user_id = session.get(_USER_KEY)
    presented = session.get(_AUTH_KEY)
    if not isinstance(user_id, int) or not isinstance(presented, str):
        return None
    state = await load_auth_state(await get_session(), user_id)
    if state is None or not state.is_active or not hmac.compare_digest(
            auth_hash(user_id, state.session_generation, state.password_hash), presented):
        # A cookie that no longer proves anything is dropped rather than sent again and again.
        session.pop(_USER_KEY, None)
        session.pop(_AUTH_KEY, None)
        return None
    return CurrentUser(id=state.id, email=state.email, role=state.role)
