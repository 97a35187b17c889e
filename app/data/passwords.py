"""Password hashing with Argon2id (argon2-cffi). Hashing costs tens of milliseconds of CPU, so
the async helpers run it in a worker thread and keep the event loop free."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

#: Verified against when the account does not exist, so that a wrong email costs as much time
#: as a wrong password and response timing does not reveal which accounts exist.
DUMMY_HASH = _hasher.hash("vitrine-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """Verify off the loop; a missing account verifies against :data:`DUMMY_HASH` and fails."""
    if password_hash is None:
        await asyncio.to_thread(verify_password, DUMMY_HASH, password)
        return False
    return await asyncio.to_thread(verify_password, password_hash, password)
