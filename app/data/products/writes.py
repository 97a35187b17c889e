"""Creating and changing one product, version-checked, each change recorded in its history.

Every change locks the row (``SELECT ... FOR UPDATE``), compares its ``version`` with the one
the caller saw, and writes with ``UPDATE products ... WHERE id = :id AND version = :v``,
bumping ``version``: a stale caller gets :class:`~.results.Conflict` and nothing is written,
so no update is ever lost. The functions flush but never commit (the caller owns the
transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..integrity import violated_constraint
from ..models import Category, Product
from ..revisions import (
    ATTRIBUTE_PREFIX,
    SOURCES,
    HistoryIncomplete,
    creation_changes,
    diff,
    price_text,
    record_revision,
    snapshot,
    state_at_version,
)
from ..slugs import insert_with_unique_slug, slugify
from .errors import ProductNotFound, ProductValidationError, RestoreError
from .loading import get_product, loaded_product, lock_product
from .results import Conflict, Saved, UpdateResult
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
    product = await _insert(session, _columns(state), chosen_slug)
    return await _record_creation(session, product, user_id=user_id, source=source)


async def update_product(session: AsyncSession, product_id: int,
                         data: ProductUpdate | Mapping[str, Any], *,
                         expected_version: int | None, user_id: int | None,
                         source: str) -> UpdateResult:
    """Change the fields given if the product is still at ``expected_version``.

    ``data`` is a validated :class:`ProductUpdate` or a mapping, parsed lax. Returns
    :class:`Saved` (with the recorded changes, possibly none) or :class:`Conflict` (with the
    current row). ``expected_version=None`` skips the check: only for callers that were
    explicitly told to overwrite (e.g. ``If-Match: *``). Raises :class:`ProductNotFound`,
    :class:`ProductValidationError`.
    """
    changes = data if isinstance(data, ProductUpdate) else parse_update(data, strict=False)
    cleaned = changes.values()
    product = await lock_product(session, product_id)
    if expected_version is not None and product.version != expected_version:
        return Conflict(current=await loaded_product(session, product_id),
                        expected_version=expected_version)
    if "category_id" in cleaned and cleaned["category_id"] != product.category_id:
        await _check_category(session, cleaned["category_id"])
    before = snapshot(product)
    return await _write(session, product, before, _apply(before, cleaned),
                        user_id=user_id, source=source)


async def _write(session: AsyncSession, product: Product, before: dict[str, Any],
                 after: dict[str, Any], *, user_id: int | None, source: str) -> UpdateResult:
    """Store ``after`` over the locked ``product`` (at ``before``) and record the revision."""
    changes = diff(before, after)
    if not changes:
        return Saved(product=await loaded_product(session, product.id), changes={})
    if source not in SOURCES:
        raise ValueError(f"unknown revision source {source!r}")
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
                             source: str) -> UpdateResult:
    """Soft delete: hide the product from shoppers (``is_active = false``), keeping its row and
    history so it can be undone with :func:`reactivate_product`."""
    return await update_product(session, product_id, ProductUpdate(is_active=False),
                                expected_version=expected_version, user_id=user_id,
                                source=source)


async def reactivate_product(session: AsyncSession, product_id: int, *,
                             expected_version: int | None, user_id: int | None,
                             source: str) -> UpdateResult:
    """Undo a soft delete (``is_active = true``)."""
    return await update_product(session, product_id, ProductUpdate(is_active=True),
                                expected_version=expected_version, user_id=user_id,
                                source=source)


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
    product = await _insert(session, _columns(state))
    return await _record_creation(session, product, user_id=user_id, source=source)


async def restore_version(session: AsyncSession, product_id: int, *, to_version: int,
                          expected_version: int | None, user_id: int | None,
                          source: str = "restore") -> UpdateResult:
    """Bring back the values the product had at ``to_version`` as a new version (history is
    never rewritten). Version-checked like :func:`update_product`. Raises
    :class:`RestoreError` if that version cannot be rebuilt or its category is gone."""
    product = await lock_product(session, product_id)
    if expected_version is not None and product.version != expected_version:
        return Conflict(current=await loaded_product(session, product_id),
                        expected_version=expected_version)
    try:
        target = await state_at_version(session, product, to_version)
    except HistoryIncomplete as error:
        raise RestoreError(str(error)) from None
    if target["category_id"] != product.category_id and await session.get(
            Category, target["category_id"]) is None:
        raise RestoreError(f"version {to_version}'s category no longer exists")
    return await _write(session, product, snapshot(product), target, user_id=user_id,
                        source=source)


__all__ = ["create_product", "deactivate_product", "duplicate_product",
           "reactivate_product", "restore_version", "update_product"]
