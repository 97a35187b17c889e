"""Editors and admins: creating them, checking their credentials, and the admin's changes
(role, deactivation) under the rule that there is always at least one active admin.

A role change or a deactivation ends the user's sessions (:func:`.sessions.end_all_sessions`)
in the same transaction. Concurrent changes are serialised by locking the active admins' rows
first (:func:`lock_active_admins`), then the user's: two admins demoting each other cannot
both succeed. These functions flush but never commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .integrity import violated_constraint
from .models import ROLES, User
from .passwords import hash_password_async, verify_password_async
from .sessions import end_all_sessions
from .tokens import revoke_all_tokens

MIN_PASSWORD_LENGTH = 10
MAX_EMAIL = 254
LAST_ADMIN = "There must always be at least one active admin, so this change was refused."


class UserError(ValueError):
    """A user could not be created or changed as asked; ``str(error)`` says why."""


class LastAdmin(UserError):
    """The change would leave no active admin."""

    def __init__(self) -> None:
        super().__init__(LAST_ADMIN)


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


async def check_credentials(session: AsyncSession, email: str, password: str) -> User | None:
    """The active user with this email and password, or None. A missing account costs as much
    time as a wrong password, so response times do not tell which accounts exist."""
    user = await find_user_by_email(session, email)
    password_ok = await verify_password_async(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        return None
    return user


async def list_users(session: AsyncSession) -> list[User]:
    """Active users first, then by email."""
    return list((await session.scalars(
        select(User).order_by(User.is_active.desc(), User.email))).all())


async def create_user(session: AsyncSession, email: str, password: str, role: str) -> User:
    """Add a user. Emails are unique regardless of case: a concurrent create of the same
    address that commits first makes the unique index refuse this one, which is reported like
    the check before it (:class:`UserError`), not as a server error."""
    email = email.strip()
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > MAX_EMAIL:
        raise UserError("email must be an address like name@example.com")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    taken = UserError(f"a user with email {email} already exists")
    if await find_user_by_email(session, email) is not None:
        raise taken
    user = User(email=email, password_hash=await hash_password_async(password), role=role)
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError as error:
        if violated_constraint(error) != "uq_users_email_lower":
            raise
        raise taken from None
    return user


async def lock_active_admins(session: AsyncSession) -> list[int]:
    """Lock the active admins' rows (in id order) and return their ids. Call it before
    locking the user to change, and pass the result to the change."""
    return list((await session.scalars(
        select(User.id).where(User.role == "admin", User.is_active.is_(True))
        .order_by(User.id).with_for_update())).all())


def _would_remove_last_admin(user: User, active_admins: Sequence[int]) -> bool:
    return user.id in active_admins and len(active_admins) == 1


async def change_role(session: AsyncSession, user: User, role: str, *,
                      active_admins: Sequence[int]) -> bool:
    """Give ``user`` (locked) ``role`` and end their sessions; False if they already had it.
    Raises :class:`LastAdmin`, or :class:`UserError` for an unknown role."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if user.role == role:
        return False
    if _would_remove_last_admin(user, active_admins):
        raise LastAdmin()
    user.role = role
    await session.flush()
    await end_all_sessions(session, user.id)
    return True


async def set_active(session: AsyncSession, user: User, active: bool, *,
                     active_admins: Sequence[int]) -> None:
    """Deactivate (ending their sessions) or reactivate ``user`` (locked). Raises
    :class:`LastAdmin`."""
    if not active and _would_remove_last_admin(user, active_admins):
        raise LastAdmin()
    user.is_active = active
    await session.flush()
    if not active:
        await end_all_sessions(session, user.id)
        await revoke_all_tokens(session, user.id)  # reactivation must not revive them
