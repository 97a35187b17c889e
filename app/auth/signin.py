"""Checking a sign-in attempt: the throttle, the password, the lockout bookkeeping. One place
for the sign-in page (:mod:`.views`) and for signing in again where a session ended while an
editor was typing (the editor's row, :mod:`app.editor.session_expiry`)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from ..data.database import get_session
from ..data.users import check_credentials
from ..web import parsing
from .sessions import sign_in
from .throttle import get_throttle

#: One message for every wrong combination: it never says which part was wrong.
BAD_CREDENTIALS = "That email and password do not match an active account."
LOCKED = ("Too many failed sign-in attempts. Please wait {minutes} before trying again.")


@dataclass(frozen=True)
class SignInOutcome:
    """``ok``, or the status and message to show (``retry_after`` seconds when locked)."""

    ok: bool
    status: int = 200
    message: str | None = None
    retry_after: int | None = None


async def attempt_sign_in(email: str, password: str) -> SignInOutcome:
    """Check ``email``/``password`` against the throttle and the accounts; on success the
    session is a fresh signed-in one (not committed: the caller commits)."""
    email = email.strip()
    address = request.remote_addr or "unknown"
    throttle = get_throttle()
    state = await throttle.check(email, address)
    if not state.allowed:
        minutes = max(1, round(state.retry_after / 60))
        return SignInOutcome(False, 429, LOCKED.format(
            minutes=f"{minutes} minute{'s' if minutes != 1 else ''}"), state.retry_after)
    db = await get_session()
    # An address PostgreSQL cannot store (a NUL) names no account: the same refusal, no query.
    user = (await check_credentials(db, email, password)
            if parsing.storable(email) else None)
    if user is None:
        await throttle.record_failure(email, address)
        return SignInOutcome(False, 401, BAD_CREDENTIALS)
    await throttle.record_success(email)
    await sign_in(db, user.id)
    return SignInOutcome(True)
