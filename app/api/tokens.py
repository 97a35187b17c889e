"""API tokens: issued to an editor, stored as a SHA-256 digest, revocable, always expiring.

The token itself (``vit_`` + 43 url-safe characters, 256 random bits) is shown once when it is
issued; the database keeps only ``sha256(token)``, so a leaked database cannot be replayed
against the API. A plain hash (not a slow password hash) is enough because the secret is random
and long: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.models import ApiToken, User

TOKEN_PREFIX = "vit_"  # noqa: S105 - a public marker, not a secret
MAX_TOKEN_DAYS = 365
DEFAULT_TOKEN_DAYS = 30
MAX_NAME_LENGTH = 100
#: ``last_used_at`` is refreshed at most this often, so reads do not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
TokenStatus = Literal["active", "expired", "revoked"]


class TokenError(ValueError):
    """A token could not be issued as asked (bad name or lifetime, unknown or inactive user)."""


@dataclass(frozen=True)
class Bearer:
    """The identity behind a valid token."""

    token_id: int
    user_id: int
    role: str


def new_token_value() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def validate_request(name: str, days: int) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise TokenError(f"name must be 1 to {MAX_NAME_LENGTH} characters")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise TokenError(f"days must be between 1 and {MAX_TOKEN_DAYS}")
    return name


async def issue_token(session: AsyncSession, user: User, name: str,
                      days: int = DEFAULT_TOKEN_DAYS) -> tuple[ApiToken, str]:
    """Add a token for ``user`` (the caller commits); returns the row and the raw token."""
    name = validate_request(name, days)
    if not user.is_active:
        raise TokenError(f"user {user.email} is not active")
    raw = new_token_value()
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw),
                     expires_at=datetime.now(UTC) + timedelta(days=days))
    session.add(token)
    await session.flush()
    return token, raw


async def authenticate(session: AsyncSession, raw: str) -> Bearer | None:
    """The identity for ``raw`` if it is a live token of an active user, else None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = datetime.now(UTC)
    row = (await session.execute(
        select(ApiToken.id, ApiToken.last_used_at, User.id, User.role)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None),
               ApiToken.expires_at > now, User.is_active)
    )).first()
    if row is None:
        return None
    token_id, last_used, user_id, role = row
    if last_used is None or now - last_used > LAST_USED_RESOLUTION:
        await session.execute(update(ApiToken).where(ApiToken.id == token_id)
                              .values(last_used_at=func.now()))
        await session.commit()
    return Bearer(token_id=token_id, user_id=user_id, role=role)


async def list_tokens(session: AsyncSession, user_id: int) -> list[ApiToken]:
    return list((await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    )).all())


async def revoke_token(session: AsyncSession, token_id: int, user_id: int | None) -> bool:
    """Revoke a token (of ``user_id`` unless None: the CLI may revoke any); caller commits."""
    statement = (update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                 .values(revoked_at=func.now()))
    if user_id is not None:
        statement = statement.where(ApiToken.user_id == user_id)
    # An UPDATE's result is a CursorResult (the one kind of result with a row count).
    result = cast(CursorResult[Any], await session.execute(statement))
    return bool(result.rowcount)


def token_status(token: ApiToken, now: datetime | None = None) -> TokenStatus:
    now = now or datetime.now(UTC)
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    return "active"
