"""Creating and changing one product, version-checked, each change recorded in its history.

Every change locks the row (``SELECT ... FOR UPDATE``), compares its ``version`` with the one
the caller saw, and writes with ``UPDATE products ... WHERE id = :id AND version = :v``,
bumping ``version``: a stale caller gets :class:`~.results.Conflict` and nothing is written,
so no update is ever lost. The functions flush but never commit (the caller owns the
transaction).

A caller that passes ``merge=True`` (the editor) gets a field-level three-way merge instead of
a whole-row conflict (:mod:`app.data.merge`): the base is rebuilt from history at the version
the caller saw, fields changed on one side only merge into a new version
(:attr:`~.results.Saved.merged_with` says whose changes were kept), and only fields both sides
changed to different values come back as a :class:`~.results.Conflict` with ``merge`` set;
``keep_mine`` names the conflicting fields the caller chose to overwrite. The history records
only the fields the caller's change actually changed. The API stays strict (no merge).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..integrity import violated_constraint
from ..live_actor import act_as
from ..merge import Merge, three_way, without_base
from ..models import Category, Product
from ..revisions import (
    ATTRIBUTE_PREFIX,
    SOURCES,
    HistoryIncomplete,
    creation_changes,
    diff,
    history_since,
    price_text,
    record_revision,
    snapshot,
    state_at_version,
)
from ..slugs import insert_with_unique_slug, slugify
from .errors import ProductNotFound, ProductValidationError, RestoreError
from .loading import get_product, loaded_product, lock_product
from .results import Conflict, MergedChange, Saved, UpdateResult
from .validation import (
    MAX_NAME,
    ProductCreate,
    ProductUpdate,
    clean_slug,
    parse_create,
    parse_update,
)

NO_CATEGORY = {"category_id": "That category does not exist."}


async def _check_category(session: AsyncSession, category_id: int) -> None:
    if await session.get(Category, category_id) is None:
        raise ProductValidationError(NO_CATEGORY)


def _apply(state: dict[str, Any], cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot that results from applying cleaned input to ``state``."""
    new = dict(state)
    for key, value in cleaned.items():
        if key == "attributes":
            for attribute, attribute_value in value.items():
                new[f"{ATTRIBUTE_PREFIX}{attribute}"] = attribute_value
        elif key == "price":
            new["price"] = price_text(value)
        else:
            new[key] = value
    return new


def _columns(state: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for a snapshot (the inverse of :func:`~app.data.revisions.snapshot`)."""
    attributes = {
        key[len(ATTRIBUTE_PREFIX):]: value
        for key, value in state.items()
        if key.startswith(ATTRIBUTE_PREFIX) and value is not None
    }
    return {
        "name": state["name"],
        "description": state["description"] or "",
        "price": Decimal(state["price"]),
        "stock": state["stock"],
        "is_active": state["is_active"],
        "category_id": state["category_id"],
        "attributes": attributes,
    }


async def _insert(session: AsyncSession, columns: dict[str, Any],
                  slug: str | None = None) -> Product:
    """Insert with ``slug`` (refused if taken) or the first free slug made from the name (see
    :func:`~app.data.slugs.insert_with_unique_slug`: concurrent creates of one name, or copies
    of one product, each get their own). A category deleted meanwhile is refused like a
    missing one."""
    try:
        async with session.begin_nested():
            if slug is None:
                return await insert_with_unique_slug(session, Product, slugify(columns["name"]),
                                                     {**columns, "version": 1})
            product = await session.scalar(
                insert(Product).values(**columns, slug=slug, version=1)
                .on_conflict_do_nothing(index_elements=[Product.slug]).returning(Product))
    except IntegrityError as error:
        if "category" not in (violated_constraint(error) or str(error.orig)):
            raise
        raise ProductValidationError(NO_CATEGORY) from None
    if product is None:
        raise ProductValidationError({"slug": "That slug is already taken."})
    return product


async def _record_creation(session: AsyncSession, product: Product, *, user_id: int | None,
                           source: str) -> Product:
    await record_revision(session, product_id=product.id, user_id=user_id, source=source,
                          version=1, changes={"slug": {"before": None, "after": product.slug},
                                              **creation_changes(snapshot(product))})
    return await loaded_product(session, product.id)


async def create_product(session: AsyncSession, data: ProductCreate | Mapping[str, Any], *,
                         user_id: int | None, source: str = "create",
                         slug: str | None = None) -> Product:
    """Create a product (version 1; ``slug``, or a unique one from the name) and record its
    revision.

    ``data`` is a validated :class:`ProductCreate` or a mapping, parsed lax. ``source`` is
    ``"create"`` for the editor, ``"api"`` for the API. Returns the product with its category
    loaded. Raises :class:`ProductValidationError`.
    """
    product_input = data if isinstance(data, ProductCreate) else parse_create(data, strict=False)
    chosen_slug = None if slug is None else clean_slug(slug)
    await _check_category(session, product_input.category_id)
    state = _apply({}, product_input.values())
    await act_as(session, user_id, source)
    product = await _insert(session, _columns(state), chosen_slug)
    return await _record_creation(session, product, user_id=user_id, source=source)


async def update_product(session: AsyncSession, product_id: int,
                         data: ProductUpdate | Mapping[str, Any], *,
                         expected_version: int | None, user_id: int | None,
                         source: str, merge: bool = False,
                         keep_mine: Collection[str] = ()) -> UpdateResult:
    """Change the fields given if the product is still at ``expected_version``.

    ``data`` is a validated :class:`ProductUpdate` or a mapping, parsed lax. Returns
    :class:`Saved` (with the recorded changes, possibly none) or :class:`Conflict` (with the
    current row). ``expected_version=None`` skips the check: only for callers that were
    explicitly told to overwrite (e.g. ``If-Match: *``). With ``merge=True`` a stale version is
    merged field by field (see the module docstring). Raises :class:`ProductNotFound`,
    :class:`ProductValidationError`.
    """
    changes = data if isinstance(data, ProductUpdate) else parse_update(data, strict=False)
    cleaned = changes.values()
    product = await lock_product(session, product_id)
    current = snapshot(product)
    if expected_version is None or product.version == expected_version:
        after = _apply(current, cleaned)
        merged: tuple[MergedChange, ...] = ()
    elif not merge:
        return Conflict(current=await loaded_product(session, product_id),
                        expected_version=expected_version)
    else:
        try:
            since = await history_since(session, product, expected_version)
        except HistoryIncomplete:
            outcome = without_base(_changed_only(current, _apply(current, cleaned)), current)
            return await _conflict(session, product_id, expected_version, outcome, {})
        outcome = three_way(since.base, _apply(since.base, cleaned), current)
        if set(outcome.conflicts) - set(keep_mine):
            return await _conflict(session, product_id, expected_version, outcome,
                                   since.authors)
        after = outcome.result(keep_mine)
        merged = tuple(MergedChange(field, *since.authors.get(field, (None, "inline")))
                       for field in outcome.theirs_kept)
    if after["category_id"] != product.category_id:
        await _check_category(session, after["category_id"])
    result = await _write(session, product, current, after, user_id=user_id, source=source)
    if isinstance(result, Saved) and merged:
        return Saved(product=result.product, changes=result.changes, merged_with=merged)
    return result


def _changed_only(current: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    return {field: value for field, value in after.items() if current.get(field) != value}


async def _conflict(session: AsyncSession, product_id: int, expected_version: int,
                    outcome: Merge,
                    authors: dict[str, tuple[str | None, str]]) -> Conflict:
    return Conflict(current=await loaded_product(session, product_id),
                    expected_version=expected_version, merge=outcome, authors=authors)


async def _write(session: AsyncSession, product: Product, before: dict[str, Any],
                 after: dict[str, Any], *, user_id: int | None, source: str) -> UpdateResult:
    """Store ``after`` over the locked ``product`` (at ``before``) and record the revision."""
    changes = diff(before, after)
    if not changes:
        return Saved(product=await loaded_product(session, product.id), changes={})
    if source not in SOURCES:
        raise ValueError(f"unknown revision source {source!r}")
    await act_as(session, user_id, source)
    new_version = await session.scalar(
        update(Product)
        .where(Product.id == product.id, Product.version == product.version)
        .values(**_columns(after), version=Product.version + 1, updated_at=func.now())
        .returning(Product.version)
        .execution_options(synchronize_session=False)
    )
    if new_version is None:  # cannot happen while the row is locked; never write blindly
        return Conflict(current=await loaded_product(session, product.id),
                        expected_version=product.version)
    await record_revision(session, product_id=product.id, user_id=user_id, source=source,
                          version=new_version, changes=changes)
    return Saved(product=await loaded_product(session, product.id), changes=changes)


async def deactivate_product(session: AsyncSession, product_id: int, *,
                             expected_version: int | None, user_id: int | None,
                             source: str, merge: bool = False) -> UpdateResult:
    """Soft delete: hide the product from shoppers (``is_active = false``), keeping its row and
    history so it can be undone with :func:`reactivate_product`."""
    return await update_product(session, product_id, ProductUpdate(is_active=False),
                                expected_version=expected_version, user_id=user_id,
                                source=source, merge=merge)


async def reactivate_product(session: AsyncSession, product_id: int, *,
                             expected_version: int | None, user_id: int | None,
                             source: str, merge: bool = False) -> UpdateResult:
    """Undo a soft delete (``is_active = true``)."""
    return await update_product(session, product_id, ProductUpdate(is_active=True),
                                expected_version=expected_version, user_id=user_id,
                                source=source, merge=merge)


async def duplicate_product(session: AsyncSession, product_id: int, *,
                            user_id: int | None, source: str = "duplicate") -> Product:
    """Copy a product as a new, *inactive* product named "<name> (copy)" with its own slug, so
    shoppers never see a half-edited copy. Records a revision with ``source``."""
    original = await get_product(session, product_id)
    if original is None:
        raise ProductNotFound(product_id)
    suffix = " (copy)"
    state = snapshot(original)
    state["name"] = original.name[: MAX_NAME - len(suffix)] + suffix
    state["is_active"] = False
    await act_as(session, user_id, source)
    product = await _insert(session, _columns(state))
    return await _record_creation(session, product, user_id=user_id, source=source)


async def restore_version(session: AsyncSession, product_id: int, *, to_version: int,
                          expected_version: int | None, user_id: int | None,
                          source: str = "restore", merge: bool = False,
                          fields: Collection[str] | None = None) -> UpdateResult:
    """Bring back the values the product had at ``to_version`` as a new version (history is
    never rewritten). Version-checked like :func:`update_product`; with ``merge=True`` a
    restore from a page opened at an older version is merged like any change: the values it
    brings back are *mine*, fields changed since that page was opened are *theirs*, and a field
    on both sides is a conflict the caller must decide. ``fields`` limits the restore to those
    fields (None: every field). Raises :class:`RestoreError` if that version cannot be rebuilt
    or its category is gone."""
    product = await lock_product(session, product_id)
    current = snapshot(product)
    stale = expected_version is not None and product.version != expected_version
    if stale and not merge and expected_version is not None:
        return Conflict(current=await loaded_product(session, product_id),
                        expected_version=expected_version)
    try:
        target = await state_at_version(session, product, to_version)
        since = await history_since(session, product,
                                    product.version if expected_version is None
                                    else expected_version)
    except HistoryIncomplete as error:
        raise RestoreError(str(error)) from None
    wanted = {field: value for field, value in target.items()
              if fields is None or field in fields}
    outcome = three_way(since.base, {**since.base, **wanted}, current)
    if outcome.conflicts:
        return await _conflict(session, product_id, since.version, outcome, since.authors)
    after = outcome.result()
    if after["category_id"] != product.category_id and await session.get(
            Category, after["category_id"]) is None:
        raise RestoreError(f"version {to_version}'s category no longer exists")
    result = await _write(session, product, current, after, user_id=user_id, source=source)
    merged = tuple(MergedChange(field, *since.authors.get(field, (None, "inline")))
                   for field in outcome.theirs_kept)
    if isinstance(result, Saved) and merged:
        return Saved(product=result.product, changes=result.changes, merged_with=merged)
    return result


__all__ = ["create_product", "deactivate_product", "duplicate_product",
           "reactivate_product", "restore_version", "update_product"]
