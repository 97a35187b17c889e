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

from flask import g, has_app_context
from sqlalchemy import TextClause, text

from .database import read_outside_transaction

#: Both versions as one text value, "<catalog> <category tree>" (one round trip).
_VERSIONS: TextClause = text(
    "SELECT (SELECT version::text FROM catalog_version) || ' '"
    " || coalesce((SELECT version::text FROM category_tree_version), '')")
_TREE_KEY = "_vitrine_tree_version"


async def current_catalog_version() -> str:
    """The catalog version the current request's database shows now: one autocommit statement
    (one round trip), on the database its data will be read from (replica or primary).

    The same statement reads ``category_tree_version`` (migration 0004), kept for the rest of
    the request (:func:`known_tree_version`): the worker's kept category tree is checked against
    it without a statement of its own, and a response kept under this catalog version is built
    from a tree at least as new."""
    versions = await read_outside_transaction(_VERSIONS)
    if versions is None:  # pragma: no cover - the migration inserts the row
        raise LookupError("catalog_version has no row: run the migrations")
    catalog, _, tree = str(versions).partition(" ")
    if tree:
        setattr(g, _TREE_KEY, tree)
    return catalog


def known_tree_version() -> str | None:
    """The ``category_tree_version`` this request read with its catalog version, if it did."""
    if not has_app_context():
        return None
    known: str | None = g.get(_TREE_KEY)
    return known
