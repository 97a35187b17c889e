"""The catalog version: a value that changes in the same transaction as any catalog change.

Migration ``0008`` keeps one row in ``catalog_version``; triggers give it a new random value at
the commit of every transaction that changed ``products`` or ``categories`` (see that migration
for why the row is renewed at commit rather than by the changing statement). Whatever is derived
from the catalog and kept under this version - a cached response - is therefore never older than
the last commit, as long as the version is read **before** the data it keys: a change committed
between the two reads can only put newer data under an older version (which nobody asks for any
more once they see the new one), never older data under a newer one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, column, select, table

from .database import read_outside_transaction

_VERSION: Select[Any] = select(column("version")).select_from(table("catalog_version"))


async def current_catalog_version() -> str:
    """The catalog version the current request's database shows now: one autocommit statement
    (one round trip), on the database its data will be read from (replica or primary)."""
    version = await read_outside_transaction(_VERSION)
    if version is None:  # pragma: no cover - the migration inserts the row
        raise LookupError("catalog_version has no row: run the migrations")
    return str(version)
