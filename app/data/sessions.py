"""What the session check reads and writes about a user: who they are, the values their
session cookie is bound to (``session_generation``, ``password_hash``), the sign-in time.

Bumping ``session_generation`` ends every session issued to the user so far, on every device
(the cookie logic is :mod:`app.auth.sessions`). These functions flush but never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .bounds import MAX_INT
from .models import User


@dataclass(frozen=True)
class AuthState:
    """The user's row as far as their session cookie is concerned."""

    id: int
    email: str
    role: str
    is_active: bool
    password_hash: str
    session_generation: int


async def load_auth_state(session: AsyncSession, user_id: int) -> AuthState | None:
    """The user's :class:`AuthState` (fresh from the database), or None."""
    if not 1 <= user_id <= MAX_INT:
        return None
    row = (await session.execute(
        select(User.id, User.email, User.role, User.is_active, User.password_hash,
               User.session_generation).where(User.id == user_id)
    )).first()
    return None if row is None else AuthState(*row)


async def record_sign_in(session: AsyncSession, user_id: int) -> None:
    await session.execute(update(User).where(User.id == user_id)
                          .values(last_login_at=func.now())
                          .execution_options(synchronize_session=False))


async def end_all_sessions(session: AsyncSession, user_id: int) -> None:
    """Invalidate every session cookie issued to ``user_id`` so far."""
    await session.execute(update(User).where(User.id == user_id)
                          .values(session_generation=User.session_generation + 1)
                          .execution_options(synchronize_session=False))
