"""Creating and looking up editors and admins."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.passwords import hash_password_async
from .models import ROLES, User

MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    """A user could not be created as asked (bad role, weak password, taken email)."""


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


async def create_user(session: AsyncSession, email: str, password: str, role: str) -> User:
    """Add a user (the caller commits). Emails are unique regardless of case."""
    email = email.strip()
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise UserError("email must be an address like name@example.com")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if await find_user_by_email(session, email) is not None:
        raise UserError(f"a user with email {email} already exists")
    user = User(email=email, password_hash=await hash_password_async(password), role=role)
    session.add(user)
    await session.flush()
    return user
