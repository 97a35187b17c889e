"""Writing a batch of planned rows (:mod:`.plan`) in a few set-based statements: an
``UPDATE ... FROM unnest(...)`` for the updates (each still guarded by the version it was
planned at), one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT (slug) DO NOTHING`` for the
creations, one ``INSERT`` of their revisions (source ``import``). Nothing is committed here:
the batch's transaction is the caller's (:mod:`app.jobs.imports`).

The updates are grouped by the columns they change, and each group's ``UPDATE`` sets only
those: a price change leaves ``category_id`` alone (its per-row path trigger does not fire)
and ``name``, ``description`` and ``attributes`` too (the stored search vector is not
recomputed). A typical file - prices, stocks - is one group.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..revisions import ATTRIBUTE_PREFIX, creation_changes
from .plan import CONFLICT, CREATE, UPDATE, Decision

SOURCE = "import"

_COLUMNS = ("name", "description", "price", "stock", "is_active", "category_id", "attributes")
_UNNEST = (
    "unnest(CAST(:names AS text[]), CAST(:descriptions AS text[]), CAST(:prices AS numeric[]),"
    " CAST(:stocks AS int[]), CAST(:actives AS boolean[]), CAST(:categories AS int[]),"
    " CAST(:attributes AS text[])")
#: The column a tracked field is stored in.
_COLUMN = {"name": "name", "description": "description", "price": "price", "stock": "stock",
           "is_active": "is_active", "category_id": "category_id"}
_SET = {"name": "name = d.name", "description": "description = d.description",
        "price": "price = d.price", "stock": "stock = d.stock",
        "is_active": "is_active = d.is_active", "category_id": "category_id = d.category_id",
        "attributes": "attributes = CAST(d.attributes AS jsonb)"}
_UPDATES: dict[frozenset[str], Any] = {}


_CREATE = text(
    "INSERT INTO products (slug, name, description, price, stock, is_active, category_id,"  # noqa: S608
    " attributes, version) SELECT d.slug, d.name, d.description, d.price, d.stock, d.is_active,"
    f" d.category_id, CAST(d.attributes AS jsonb), 1 FROM {_UNNEST}, CAST(:slugs AS text[]))"
    " AS d(name, description, price, stock, is_active, category_id, attributes, slug)"
    " ON CONFLICT (slug) DO NOTHING RETURNING id, slug")
_REVISIONS = text(
    "INSERT INTO product_revisions (product_id, user_id, source, version, changes)"
    " SELECT d.product_id, CAST(:user_id AS integer), :source, d.version,"
    " CAST(d.changes AS jsonb) FROM unnest(CAST(:ids AS bigint[]), CAST(:versions AS int[]),"
    " CAST(:changes AS text[])) AS d(product_id, version, changes)")


def _update(columns: frozenset[str]) -> Any:
    """The UPDATE that sets ``columns`` (names from :data:`_SET` only, never from input)."""
    statement = _UPDATES.get(columns)
    if statement is None:
        sets = ", ".join(_SET[name] for name in _COLUMNS if name in columns)
        sql = (f"UPDATE products AS p SET {sets}, version = p.version + 1,"  # noqa: S608
               f" updated_at = now() FROM {_UNNEST}, CAST(:ids AS bigint[]),"
               " CAST(:versions AS int[])) AS d(name, description, price, stock, is_active,"
               " category_id, attributes, id, version) WHERE p.id = d.id"
               " AND p.version = d.version RETURNING p.id, p.version")  # column names: _SET
        statement = _UPDATES[columns] = text(sql)
    return statement


def _changed_columns(decision: Decision) -> frozenset[str]:
    return frozenset(_COLUMN.get(name, "attributes") for name in decision.changes)


@dataclass
class Written:
    """What a batch wrote; ``lost``: planned rows that could not be written (a product created
    with the same slug meanwhile), reported as conflicts."""

    created: int = 0
    updated: int = 0
    lost: list[Decision] = field(default_factory=list)


def _values(states: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    attributes = [json.dumps({key[len(ATTRIBUTE_PREFIX):]: value
                              for key, value in state.items()
                              if key.startswith(ATTRIBUTE_PREFIX) and value is not None},
                             sort_keys=True) for state in states]
    return {"names": [s["name"] for s in states],
            "descriptions": [s["description"] or "" for s in states],
            "prices": [Decimal(s["price"]) for s in states],
            "stocks": [s["stock"] for s in states],
            "actives": [s["is_active"] for s in states],
            "categories": [s["category_id"] for s in states], "attributes": attributes}


async def _revisions(session: AsyncSession, user_id: int | None,
                     entries: list[tuple[int, int, dict[str, Any]]]) -> None:
    if entries:
        await session.execute(_REVISIONS, {
            "user_id": user_id, "source": SOURCE, "ids": [e[0] for e in entries],
            "versions": [e[1] for e in entries],
            "changes": [json.dumps(e[2]) for e in entries]})


async def write(session: AsyncSession, decisions: Sequence[Decision], *,
                user_id: int | None) -> Written:
    """Apply the batch's creations and updates (the rows were planned locked)."""
    written = Written()
    entries: list[tuple[int, int, dict[str, Any]]] = []
    groups: dict[frozenset[str], list[Decision]] = {}
    for decision in decisions:
        if decision.action == UPDATE:
            groups.setdefault(_changed_columns(decision), []).append(decision)
    for columns, updates in groups.items():
        rows = (await session.execute(_update(columns), {
            **_values([d.after for d in updates]),
            "ids": [d.product_id for d in updates], "versions": [d.version for d in updates],
        })).all()
        versions = dict(rows)
        for decision in updates:
            assert decision.product_id is not None
            version = versions.get(decision.product_id)
            if version is None:  # cannot happen on locked rows; never write blindly
                decision.action, decision.reason = CONFLICT, "The product changed meanwhile."
                written.lost.append(decision)
                continue
            entries.append((decision.product_id, version, decision.changes))
            written.updated += 1
    creates = [d for d in decisions if d.action == CREATE]
    if creates:
        made = dict((slug, pid) for pid, slug in (await session.execute(_CREATE, {
            **_values([d.after for d in creates]), "slugs": [d.item for d in creates],
        })).all())
        for decision in creates:
            product_id = made.get(decision.item)
            if product_id is None:
                decision.action = CONFLICT
                decision.reason = ("A product with this slug was created meanwhile; the row "
                                   "was not applied.")
                written.lost.append(decision)
                continue
            decision.product_id = product_id
            entries.append((product_id, 1, {"slug": {"before": None, "after": decision.item},
                                            **creation_changes(decision.after)}))
            written.created += 1
    await _revisions(session, user_id, entries)
    return written


__all__ = ["SOURCE", "Written", "write"]
