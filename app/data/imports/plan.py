"""What importing rows would do to the catalog, decided set-based: one query for the products
the rows name, one for the history of those whose version moved on since the export, then the
rules of any edit per row (:mod:`app.data.merge`).

For each :class:`~.rows.ImportRow`:

* no ``id`` and an unknown slug: **create** it with that slug;
* an ``id``: it must be an existing product with that slug (an import never renames a slug);
* an existing product: the row's ``version`` is the version it was exported at. At the
  product's current version the row's values apply as they are; at an older version the row is
  merged field by field like an editor's save (fields only the file changed, or only colleagues
  changed, are kept together; a field both changed to different values is a **conflict**, and
  the row is not applied). Without a version, a row equal to the product is unchanged and any
  other is rejected (it cannot be told from an overwrite);
* when the result equals the product, the row is **unchanged**: nothing is written.

The dry run plans without locks; each batch of the applying job plans again on its rows locked
(``FOR UPDATE``, in id order like bulk actions) and its categories held (``FOR KEY SHARE``: a
category deleted since the check rejects its rows instead of failing the batch), so what is
written is decided on the rows as they are at that moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..merge import changed, three_way, without_base
from ..revisions import ATTRIBUTE_KEYS, ATTRIBUTE_PREFIX, diff, price_text
from .rows import Categories, ImportRow, Rejection, field_label

CREATE, UPDATE, UNCHANGED, CONFLICT, REJECTED = (
    "create", "update", "unchanged", "conflict", "rejected")

_PRODUCTS = text(
    "SELECT id, slug, version, name, description, price, stock, is_active, category_id,"
    " attributes FROM products WHERE id = ANY(CAST(:ids AS bigint[]))"
    " OR slug = ANY(CAST(:slugs AS text[])) ORDER BY id")
_LOCKED = text(_PRODUCTS.text + " FOR UPDATE")
_HISTORY = text(
    "SELECT r.product_id, r.version, r.changes FROM product_revisions AS r"
    " JOIN unnest(CAST(:ids AS bigint[]), CAST(:versions AS int[])) AS w(id, version)"
    " ON r.product_id = w.id AND r.version > w.version ORDER BY r.product_id, r.version")
_CATEGORIES = text("SELECT id, slug, parent_id FROM categories")
#: The rows' categories, held against deletion until the batch commits.
_KEEP_CATEGORIES = text("SELECT id FROM categories WHERE id = ANY(CAST(:ids AS int[]))"
                        " ORDER BY id FOR KEY SHARE")


@dataclass
class Decision:
    """What to do with one row. ``before``/``after``: the product's tracked fields now and
    after the row (``after`` for a creation); ``version``: the product's version now;
    ``merged``: fields others changed that the row keeps; ``conflicts``: fields both changed."""

    line: int
    item: str
    action: str
    reason: str = ""
    product_id: int | None = None
    version: int | None = None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def changes(self) -> dict[str, dict[str, Any]]:
        return diff(self.before, self.after)


async def load_categories(session: AsyncSession) -> Categories:
    return Categories([tuple(row) for row in (await session.execute(_CATEGORIES)).all()])


def _state(row: Any) -> dict[str, Any]:
    """A product row's tracked fields, as :func:`app.data.revisions.snapshot` gives them."""
    attributes = row.attributes or {}
    state: dict[str, Any] = {
        "name": row.name, "price": price_text(row.price), "stock": row.stock,
        "category_id": row.category_id, "is_active": row.is_active,
        "description": row.description,
    }
    for key in ATTRIBUTE_KEYS:
        state[f"{ATTRIBUTE_PREFIX}{key}"] = attributes.get(key)
    for key in sorted(attributes):
        if key not in ATTRIBUTE_KEYS:
            state[f"{ATTRIBUTE_PREFIX}{key}"] = attributes[key]
    return state


def _base(current: dict[str, Any], top: int, version: int,
          revisions: list[tuple[int, dict[str, Any]]]) -> dict[str, Any] | None:
    """The product at ``version``, rebuilt by undoing newer revisions (None: history gap)."""
    by_version = {number: changes for number, changes in revisions}
    if any(number not in by_version for number in range(version + 1, top + 1)):
        return None
    state = dict(current)
    for number in range(top, version, -1):
        for name, change in by_version[number].items():
            if name in state or name.startswith(ATTRIBUTE_PREFIX):
                state[name] = change.get("before")
    return state


async def plan(session: AsyncSession, rows: Sequence[ImportRow | Rejection], *,
               lock: bool = False) -> list[Decision]:
    """A decision for every row, in the rows' order."""
    valid = [row for row in rows if isinstance(row, ImportRow)]
    categories = set((await session.scalars(_KEEP_CATEGORIES, {"ids": sorted(
        {row.state["category_id"] for row in valid})})).all()) if valid and lock else None
    found = (await session.execute(_LOCKED if lock else _PRODUCTS, {
        "ids": sorted({row.id for row in valid if row.id is not None}),
        "slugs": sorted({row.slug for row in valid})})).all() if valid else []
    by_id = {product.id: product for product in found}
    by_slug = {product.slug: product for product in found}
    stale = []
    for row in valid:
        product = by_id.get(row.id) if row.id is not None else by_slug.get(row.slug)
        if product is not None and row.version is not None and row.version < product.version:
            stale.append((product.id, row.version))
    history: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    if stale:
        for product_id, number, changes in (await session.execute(_HISTORY, {
                "ids": [s[0] for s in stale], "versions": [s[1] for s in stale]})).all():
            history[product_id].append((number, changes))
    return [_decide(row, by_id, by_slug, history, categories) for row in rows]


def _decide(row: ImportRow | Rejection, by_id: dict[int, Any], by_slug: dict[str, Any],
            history: dict[int, list[tuple[int, dict[str, Any]]]],
            categories: set[int] | None) -> Decision:
    if isinstance(row, Rejection):
        return Decision(row.line, row.item, REJECTED, row.reason)
    if categories is not None and row.state["category_id"] not in categories:
        return Decision(row.line, row.slug, REJECTED,
                        "category: the category was deleted since the file was checked.")
    if row.id is not None:
        product = by_id.get(row.id)
        if product is None:
            return Decision(row.line, row.slug, REJECTED,
                            f"id: no product has id {row.id} (leave id empty to create one).")
        if product.slug != row.slug:
            return Decision(row.line, row.slug, REJECTED,
                            f"id: product {row.id} is “{product.slug}”; an import cannot "
                            "change a slug.")
    else:
        product = by_slug.get(row.slug)
        if product is None:
            return Decision(row.line, row.slug, CREATE, after=dict(row.state))
    current = _state(product)
    common = {"line": row.line, "item": row.slug, "product_id": product.id,
              "version": product.version, "before": current}
    if row.version is None:
        if not changed(current, {**current, **row.state}):
            return Decision(**common, action=UNCHANGED, after=current)
        return Decision(**common, action=REJECTED, reason=(
            "version: this product exists; give the version it was exported at, so that a "
            "colleague's later change is never overwritten."))
    if row.version > product.version:
        return Decision(**common, action=REJECTED, reason=(
            f"version: {row.version} is newer than the product's version ({product.version})."))
    merged: list[str] = []
    if row.version == product.version:
        after = {**current, **row.state}
    else:
        base = _base(current, product.version, row.version, history.get(product.id, []))
        outcome = (without_base({k: v for k, v in row.state.items() if current.get(k) != v},
                                current) if base is None
                   else three_way(base, {**base, **row.state}, current))
        if outcome.conflicts:
            fields = {name: {"base": c.base, "file": c.mine, "now": c.theirs}
                      for name, c in outcome.conflicts.items()}
            names = ", ".join(field_label(name) for name in fields)
            why = ("the history since then is incomplete" if base is None else
                   f"changed since version {row.version} to another value")
            return Decision(**common, action=CONFLICT, conflicts=fields, reason=(
                f"Conflict on {names}: {why}; the row was not applied (export again to see "
                "the current values)."))
        after = outcome.result()
        merged = [name for name in outcome.theirs_kept if name in row.state]
    if not diff(current, after):
        return Decision(**common, action=UNCHANGED, after=after)
    return Decision(**common, action=UPDATE, after=after, merged=merged)


__all__ = ["CONFLICT", "CREATE", "REJECTED", "UNCHANGED", "UPDATE", "Decision",
           "load_categories", "plan"]
