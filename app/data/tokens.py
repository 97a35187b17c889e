"""The API tokens a user holds, as the user's account changes (issuing and checking tokens is
:mod:`app.api.tokens`)."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ApiToken


async def revoke_all_tokens(session: AsyncSession, user_id: int) -> None:
    """Revoke every live token of ``user_id`` (the caller commits).

    Called when a user is deactivated, in the same transaction: a token is refused while its
    user is inactive anyway, but only revoking it keeps it dead once the user is reactivated
    (as their sessions stay dead). A reactivated user issues new tokens."""
    await session.execute(update(ApiToken)
                          .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                          .values(revoked_at=func.now())
                          .execution_options(synchronize_session=False))
