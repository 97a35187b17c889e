"""Product history: recording one revision per change, reading it back, rebuilding old versions.

Every write in :mod:`app.data.products` ends with :func:`record_revision` in the same
transaction, so a product's history is complete for everything done through the app (editor,
bulk actions, the JSON API). A revision stores the product's ``version`` *after* the change and,
for each changed field, ``{"before": ..., "after": ...}`` in JSON-safe form (see :func:`snapshot`):

* ``name``, ``description`` - strings; ``price`` - a string with two decimals (``"12.50"``)
* ``stock`` - int; ``is_active`` - bool; ``category_id`` - int
* ``attributes.<key>`` - one entry per attribute key (brand, colour, material, size); ``None``
  means "not set"

Because ``before`` values are stored, any earlier version can be rebuilt from the current row by
undoing newer revisions in reverse order (:func:`state_at_version`), which is what "restore" uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Product, ProductRevision, User

SOURCES = ("create", "inline", "bulk", "api", "restore", "duplicate", "cli", "images", "import")

#: Product columns recorded in history (and restorable), in display order.
TRACKED_FIELDS = ("name", "price", "stock", "category_id", "is_active", "description")
#: The attribute keys editors manage; each is tracked as ``attributes.<key>``.
ATTRIBUTE_KEYS = ("brand", "colour", "material", "size")
ATTRIBUTE_PREFIX = "attributes."

FIELD_LABELS = {
    "name": "Name",
    "price": "Price",
    "stock": "Stock",
    "category_id": "Category",
    "is_active": "Active",
    "description": "Description",
    "slug": "Slug",
    # Not a product column: image changes (app.data.images) record the alt texts in order.
    "images": "Images",
    **{f"{ATTRIBUTE_PREFIX}{key}": key.capitalize() for key in ATTRIBUTE_KEYS},
}


class HistoryIncomplete(LookupError):
    """An earlier version cannot be rebuilt because revisions between it and now are missing."""


@dataclass(frozen=True)
class RevisionEntry:
    """One history line as shown to editors (who is the user's email, or None if deleted)."""

    id: int
    product_id: int
    version: int
    source: str
    user_id: int | None
    user_email: str | None
    created_at: datetime
    changes: dict[str, dict[str, Any]]


def price_text(value: Decimal | str | None) -> str | None:
    """A price as history stores it: a string with exactly two decimals."""
    if value is None:
        return None
    return f"{Decimal(value):.2f}"


def snapshot(product: Product) -> dict[str, Any]:
    """The product's tracked fields as a flat, JSON-safe mapping (the unit of diffs/restores)."""
    state: dict[str, Any] = {field: getattr(product, field) for field in TRACKED_FIELDS}
    state["price"] = price_text(product.price)
    attributes = product.attributes or {}
    for key in ATTRIBUTE_KEYS:
        state[f"{ATTRIBUTE_PREFIX}{key}"] = attributes.get(key)
    # Keys outside the editor's set are kept as they are and tracked too.
    for key in sorted(attributes):
        if key not in ATTRIBUTE_KEYS:
            state[f"{ATTRIBUTE_PREFIX}{key}"] = attributes[key]
    return state


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before", "after"}}`` for every field whose value differs."""
    changes = {}
    for field in dict.fromkeys([*before, *after]):
        old, new = before.get(field), after.get(field)
        if old != new:
            changes[field] = {"before": old, "after": new}
    return changes


def creation_changes(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The changes of a newly created product: every set field from ``None`` to its value."""
    return {field: {"before": None, "after": value} for field, value in state.items()
            if value is not None}


async def record_revision(session: AsyncSession, *, product_id: int, user_id: int | None,
                          source: str, version: int,
                          changes: Mapping[str, Mapping[str, Any]]) -> ProductRevision:
    """Add one revision (flushed, not committed: it belongs to the caller's transaction)."""
    if source not in SOURCES:
        raise ValueError(f"unknown revision source {source!r}")
    revision = ProductRevision(product_id=product_id, user_id=user_id, source=source,
                               version=version, changes=dict(changes))
    session.add(revision)
    await session.flush()
    return revision


async def list_revisions(session: AsyncSession, product_id: int, *,
                         limit: int = 200) -> list[RevisionEntry]:
    """The product's revisions, newest first, with the author's email."""
    rows = await session.execute(
        select(ProductRevision, User.email)
        .outerjoin(User, User.id == ProductRevision.user_id)
        .where(ProductRevision.product_id == product_id)
        .order_by(ProductRevision.version.desc(), ProductRevision.id.desc())
        .limit(limit)
    )
    return [
        RevisionEntry(id=rev.id, product_id=rev.product_id, version=rev.version,
                      source=rev.source, user_id=rev.user_id, user_email=email,
                      created_at=rev.created_at, changes=rev.changes)
        for rev, email in rows
    ]


async def state_at_version(session: AsyncSession, product: Product,
                           target_version: int) -> dict[str, Any]:
    """Rebuild the product's tracked fields as they were at ``target_version``.

    Starts from the current row and undoes every newer revision (newest first) by applying its
    ``before`` values. Raises :class:`HistoryIncomplete` if a version in between has no revision
    (a change made outside the app) or ``target_version`` is not an earlier version.
    """
    if not 1 <= target_version < product.version:
        raise HistoryIncomplete(f"version {target_version} is not an earlier version")
    revisions = (
        await session.scalars(
            select(ProductRevision)
            .where(ProductRevision.product_id == product.id,
                   ProductRevision.version > target_version,
                   ProductRevision.version <= product.version)
            .order_by(ProductRevision.version.desc(), ProductRevision.id.desc())
        )
    ).all()
    by_version = {revision.version: revision for revision in revisions}
    missing = [v for v in range(target_version + 1, product.version + 1) if v not in by_version]
    if missing:
        raise HistoryIncomplete(
            f"version {target_version} cannot be rebuilt: no history for version {missing[0]}"
        )
    state = snapshot(product)
    for version in range(product.version, target_version, -1):
        for field, change in by_version[version].changes.items():
            if field in state or field.startswith(ATTRIBUTE_PREFIX):
                state[field] = change.get("before")
    return state


@dataclass(frozen=True)
class Since:
    """What happened to a product after ``version``: its state then (``base``), and for each
    field changed since, who changed it last (email, None for a system task or deleted user)
    and how (the revision's source)."""

    version: int
    base: dict[str, Any]
    authors: dict[str, tuple[str | None, str]]


async def history_since(session: AsyncSession, product: Product, version: int) -> Since:
    """The base of a three-way merge (:mod:`app.data.merge`): the product as it was at
    ``version`` and who changed which field after it. Raises :class:`HistoryIncomplete` like
    :func:`state_at_version` (also for a version that is not the current or an earlier one)."""
    if version == product.version:
        return Since(version=version, base=snapshot(product), authors={})
    if not 1 <= version < product.version:
        raise HistoryIncomplete(f"version {version} is not an earlier version")
    rows = (await session.execute(
        select(ProductRevision, User.email)
        .outerjoin(User, User.id == ProductRevision.user_id)
        .where(ProductRevision.product_id == product.id,
               ProductRevision.version > version,
               ProductRevision.version <= product.version)
        .order_by(ProductRevision.version.desc(), ProductRevision.id.desc())
    )).all()
    by_version = {revision.version: (revision, email) for revision, email in rows}
    missing = [v for v in range(version + 1, product.version + 1) if v not in by_version]
    if missing:
        raise HistoryIncomplete(
            f"version {version} cannot be rebuilt: no history for version {missing[0]}")
    state = snapshot(product)
    authors: dict[str, tuple[str | None, str]] = {}
    for number in range(product.version, version, -1):
        revision, email = by_version[number]
        for field, change in revision.changes.items():
            if field in state or field.startswith(ATTRIBUTE_PREFIX):
                state[field] = change.get("before")
                authors.setdefault(field, (email, revision.source))
    return Since(version=version, base=state, authors=authors)


async def restorable_versions(session: AsyncSession, product: Product) -> set[int]:
    """Every earlier version that :func:`state_at_version` can rebuild."""
    versions = set(
        (await session.scalars(
            select(ProductRevision.version).where(ProductRevision.product_id == product.id)
        )).all()
    )
    restorable: set[int] = set()
    version = product.version
    while version in versions and version - 1 >= 1:
        restorable.add(version - 1)
        version -= 1
    return restorable
