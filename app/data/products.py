"""The product write service: the one place products are created and changed.

Shared by the editor (inline table, bulk actions, history) and the JSON API, so that both
validate the same way, guard against lost updates the same way and record history the same way.

Transactions: these functions *flush* but never *commit*. The caller owns the transaction (one
per user action): ``await session.commit()`` after a successful result, or roll back. A raised
error leaves nothing of that call behind once the caller rolls back; :func:`bulk_update` even
undoes its own work (savepoint) before raising, so the session stays usable.

Results of a versioned change (:func:`update_product`, :func:`deactivate_product`,
:func:`reactivate_product`, :func:`restore_version`) are either

* :class:`Saved` - ``product`` is the row after the change (category loaded), ``changes`` the
  recorded ``{field: {"before", "after"}}`` (empty when the values were already as asked: then
  no revision is written and the version does not move), or
* :class:`Conflict` - someone changed the row since ``expected_version``; ``current`` is the row
  as it is now (category loaded). Nothing was written. The API answers 412, the editor 409.

A product that does not exist raises :class:`ProductNotFound`; invalid input raises
:class:`ProductValidationError` whose ``errors`` maps field names to messages meant for people.

Input mappings (``data``) use these keys, all optional for updates:

===============  ================================================================
``name``        str, 1-200 characters after trimming
``description`` str, at most 10,000 characters
``price``       Decimal/str/int, 0 to 99,999,999.99, at most two decimals
``stock``       int, 0 to 2,147,483,647
``is_active``   bool
``category_id`` int, an existing category
``attributes``  mapping of brand/colour/material/size to str (max 100 chars) or
                None/"" to remove; keys not given are kept (merge, not replace)
``slug``        creation only: lowercase words joined by ``-``, unique; None or
                missing makes one from the name (``-2``, ``-3``... when taken)
===============  ================================================================

Every change writes a :class:`~app.data.models.ProductRevision` with ``user_id`` (None for
system changes), ``source`` (one of :data:`~app.data.revisions.SOURCES`: ``create``,
``inline``, ``bulk``, ``api``, ``restore``, ``duplicate``, ``cli``) and the new ``version``.

Functions (all ``async`` except the two helpers; ``session`` is an ``AsyncSession``):

* ``get_product(session, id) -> Product | None``
* ``create_product(session, data, *, user_id, source="create") -> Product``
* ``update_product(session, id, data, *, expected_version, user_id, source) -> Saved | Conflict``
* ``deactivate_product(session, id, *, expected_version, user_id, source)`` (soft delete) and
  ``reactivate_product(...)`` (undo) ``-> Saved | Conflict``
* ``duplicate_product(session, id, *, user_id, source="duplicate") -> Product``
* ``restore_version(session, id, *, to_version, expected_version, user_id) -> Saved | Conflict``
* ``bulk_update(session, ids, BulkAction(...), *, user_id, source="bulk") -> BulkResult``
* ``validate_product_data(data, *, partial=True) -> dict`` and ``clean_field(name, value)``
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import BigInteger, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from .models import Category, Product
from .revisions import (
    ATTRIBUTE_KEYS,
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

__all__ = [
    "ATTRIBUTE_KEYS", "MAX_PRICE", "MAX_STOCK", "SOURCES", "BulkAction", "BulkError",
    "BulkResult", "Conflict", "ProductNotFound", "ProductValidationError", "RestoreError",
    "Saved", "UpdateResult", "bulk_update", "clean_field", "create_product", "deactivate_product",
    "duplicate_product", "get_product", "reactivate_product", "restore_version",
    "slugify", "update_product", "validate_product_data",
]

MAX_PRICE = Decimal("99999999.99")
MAX_STOCK = 2_147_483_647  # PostgreSQL integer
MAX_NAME = 200
MAX_DESCRIPTION = 10_000
MAX_ATTRIBUTE = 100
MAX_SLUG = 220
#: Bulk price changes: percent within this range, amount within +/- MAX_PRICE.
MIN_PERCENT, MAX_PERCENT = Decimal("-100"), Decimal("1000")


# -- results and errors -------------------------------------------------------------------------

@dataclass(frozen=True)
class Saved:
    """The change was applied (or there was nothing to change)."""

    product: Product
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class Conflict:
    """Someone else saved first: ``current`` is the row as it is now; nothing was written."""

    current: Product
    expected_version: int


UpdateResult = Saved | Conflict


class ProductNotFound(LookupError):
    """No product with that id."""


class ProductValidationError(ValueError):
    """Input that cannot be stored; ``errors`` maps each field to a message for people."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class RestoreError(ValueError):
    """An earlier version cannot be restored (missing history, or not an earlier version)."""


class BulkError(ValueError):
    """A bulk action was refused or failed as a whole; nothing was changed."""


# -- reading ------------------------------------------------------------------------------------

async def get_product(session: AsyncSession, product_id: int) -> Product | None:
    """The product with its category loaded (fresh from the database), or None."""
    if not 1 <= product_id <= MAX_ID:
        return None
    return await session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .options(selectinload(Product.category))
        .execution_options(populate_existing=True)
    )


async def _lock(session: AsyncSession, product_id: int) -> Product:
    """Lock the row for this transaction and load its latest committed values."""
    if not 1 <= product_id <= MAX_ID:
        raise ProductNotFound(product_id)
    product = await session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise ProductNotFound(product_id)
    return product


# -- validation ---------------------------------------------------------------------------------

def _clean_price(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("Enter a price.")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("Enter a price as a number, like 12.50.") from None
    if not price.is_finite():
        raise ValueError("Enter a price as a number, like 12.50.")
    if price < 0:
        raise ValueError("Price cannot be negative.")
    if price > MAX_PRICE:
        raise ValueError("Price cannot be more than 99,999,999.99.")
    if price != price.quantize(Decimal("0.01")):
        raise ValueError("Price can have at most two decimal places.")
    return price.quantize(Decimal("0.01"))


def _clean_stock(value: Any) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("Enter a stock quantity.")
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"[+-]?\d{1,12}", value):
            raise ValueError("Stock must be a whole number.")
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("Stock must be a whole number.")
    if value < 0:
        raise ValueError("Stock cannot be negative.")
    if value > MAX_STOCK:
        raise ValueError(f"Stock cannot be more than {MAX_STOCK:,}.")
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refuse_control(value: str, label: str) -> None:
    """PostgreSQL text cannot hold NUL, and other control characters are never meant."""
    if _CONTROL.search(value):
        raise ValueError(f"{label} cannot contain control characters.")


def _clean_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Enter a name.")
    _refuse_control(value, "Name")
    value = " ".join(value.split())
    if len(value) > MAX_NAME:
        raise ValueError(f"Name can be at most {MAX_NAME} characters.")
    return value


def _clean_description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("Description must be text.")
    _refuse_control(value, "Description")
    value = value.strip()
    if len(value) > MAX_DESCRIPTION:
        raise ValueError(f"Description can be at most {MAX_DESCRIPTION:,} characters.")
    return value


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ID = 2**63 - 1  # products.id is bigint
MAX_CATEGORY_ID = 2**31 - 1  # categories.id is integer


def _clean_slug(value: Any) -> str:
    if not isinstance(value, str) or not _SLUG.fullmatch(value) or len(value) > MAX_SLUG:
        raise ValueError("Use lowercase letters, digits and single dashes (at most 220).")
    return value


def _clean_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("Must be true or false.")


def _clean_category_id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("Choose a category.")
    try:
        category_id = int(value)
    except (TypeError, ValueError):
        raise ValueError("Choose a category.") from None
    if not 1 <= category_id <= MAX_CATEGORY_ID:
        raise ValueError("Choose a category.")
    return category_id


def _clean_attributes(value: Any, errors: dict[str, str]) -> dict[str, str | None]:
    if not isinstance(value, Mapping):
        errors["attributes"] = "Attributes must be an object of brand, colour, material, size."
        return {}
    cleaned: dict[str, str | None] = {}
    for key, raw in value.items():
        if key not in ATTRIBUTE_KEYS:
            errors[f"attributes.{key}"] = (
                f"Unknown attribute; use {', '.join(ATTRIBUTE_KEYS)}."
            )
            continue
        if raw is None:
            cleaned[key] = None
            continue
        if not isinstance(raw, str):
            errors[f"attributes.{key}"] = f"{key.capitalize()} must be text."
            continue
        if _CONTROL.search(raw):
            errors[f"attributes.{key}"] = f"{key.capitalize()} cannot contain control characters."
            continue
        raw = " ".join(raw.split())
        if len(raw) > MAX_ATTRIBUTE:
            errors[f"attributes.{key}"] = (
                f"{key.capitalize()} can be at most {MAX_ATTRIBUTE} characters."
            )
            continue
        cleaned[key] = raw or None
    return cleaned


_CLEANERS = {
    "name": _clean_name,
    "description": _clean_description,
    "price": _clean_price,
    "stock": _clean_stock,
    "is_active": _clean_bool,
    "category_id": _clean_category_id,
}
def clean_field(name: str, value: Any) -> Any:
    """Clean one field as :func:`validate_product_data` would (``attributes.<key>`` for an
    attribute); raises ``ValueError`` with the message for people. Lets forms show the very
    same messages next to each field."""
    if name.startswith(ATTRIBUTE_PREFIX):
        errors: dict[str, str] = {}
        cleaned = _clean_attributes({name[len(ATTRIBUTE_PREFIX):]: value}, errors)
        if errors:
            raise ValueError(next(iter(errors.values())))
        return next(iter(cleaned.values()))
    return _CLEANERS[name](value)


REQUIRED_ON_CREATE = ("name", "price", "category_id")


def validate_product_data(data: Mapping[str, Any], *, partial: bool = True) -> dict[str, Any]:
    """Check and normalise ``data`` (see the module docstring for keys and bounds).

    Returns the cleaned mapping; raises :class:`ProductValidationError` with one message per
    bad field. Unknown keys are errors. With ``partial=False`` (creation) name, price and
    category are required. Whether the category exists is checked when writing.
    """
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if key == "attributes":
            cleaned["attributes"] = _clean_attributes(value, errors)
        elif key == "slug" and not partial:
            if value is not None:
                try:
                    cleaned["slug"] = _clean_slug(value)
                except ValueError as error:
                    errors["slug"] = str(error)
        elif key in _CLEANERS:
            try:
                cleaned[key] = _CLEANERS[key](value)
            except ValueError as error:
                errors[key] = str(error)
        else:
            errors[key] = "Unknown field."
    if not partial:
        for key in REQUIRED_ON_CREATE:
            if key not in data and key not in errors:
                errors[key] = {"name": "Enter a name.", "price": "Enter a price.",
                               "category_id": "Choose a category."}[key]
    if errors:
        raise ProductValidationError(errors)
    return cleaned


async def _check_category(session: AsyncSession, category_id: int) -> None:
    if await session.get(Category, category_id) is None:
        raise ProductValidationError({"category_id": "That category does not exist."})


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


# -- slugs --------------------------------------------------------------------------------------

def slugify(value: str) -> str:
    """URL-safe lowercase ASCII: "Café Lamp, 2-pack" -> "cafe-lamp-2-pack"."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:200].rstrip("-") or "product"


async def _unique_slug(session: AsyncSession, name: str) -> str:
    """The name's slug, with ``-2``, ``-3``... appended when taken (one past the highest
    numbered sibling, so it is free unless a concurrent insert takes it: see :func:`_insert`)."""
    base = slugify(name)
    if await session.scalar(select(Product.id).where(Product.slug == base)) is None:
        return base
    # ``base`` is only [a-z0-9-], so it is a literal in a regular expression; still bound.
    taken = (await session.scalars(
        select(Product.slug).where(Product.slug.op("~")("^" + base + "(-[0-9]{1,9})?$"))
    )).all()
    numbers = [int(slug[len(base) + 1:]) if len(slug) > len(base) else 1 for slug in taken]
    return f"{base}-{max(numbers, default=1) + 1}"


async def _insert(session: AsyncSession, columns: dict[str, Any],
                  slug: str | None = None) -> Product:
    """Insert with ``slug`` (refused if taken) or a unique slug made from the name (retried if
    a concurrent insert takes it first)."""
    for attempt in range(5):
        chosen = slug or await _unique_slug(session, columns["name"])
        product = Product(slug=chosen, version=1, **columns)
        try:
            async with session.begin_nested():
                session.add(product)
                await session.flush()
        except IntegrityError as error:
            message = str(error.orig)
            if "category" in message:
                raise ProductValidationError(
                    {"category_id": "That category does not exist."}) from None
            if "slug" not in message:
                raise
            if slug is not None:
                raise ProductValidationError({"slug": "That slug is already taken."}) from None
            if attempt == 4:
                raise
            continue
        return product
    raise RuntimeError("unreachable")


# -- writes -------------------------------------------------------------------------------------

async def create_product(session: AsyncSession, data: Mapping[str, Any], *,
                         user_id: int | None, source: str = "create") -> Product:
    """Create a product (version 1, unique slug from the name) and record its revision.

    ``source`` is ``"create"`` for the editor, ``"api"`` for the API. Returns the product with
    its category loaded. Raises :class:`ProductValidationError`.
    """
    cleaned = validate_product_data(data, partial=False)
    await _check_category(session, cleaned["category_id"])
    state = _apply(
        {"description": "", "stock": 0, "is_active": True,
         **{f"{ATTRIBUTE_PREFIX}{k}": None for k in ATTRIBUTE_KEYS}},
        {k: v for k, v in cleaned.items() if k != "slug"},
    )
    product = await _insert(session, _columns(state), cleaned.get("slug"))
    await record_revision(session, product_id=product.id, user_id=user_id, source=source,
                          version=1, changes={"slug": {"before": None, "after": product.slug},
                                              **creation_changes(snapshot(product))})
    return await get_product(session, product.id)  # type: ignore[return-value]


async def update_product(session: AsyncSession, product_id: int, data: Mapping[str, Any], *,
                         expected_version: int | None, user_id: int | None,
                         source: str) -> UpdateResult:
    """Change the given fields if the product is still at ``expected_version``.

    The row is locked (``SELECT ... FOR UPDATE``) and written with
    ``UPDATE products ... WHERE id = :id AND version = :v``, bumping ``version``. Returns
    :class:`Saved` (with the recorded changes, possibly none) or :class:`Conflict` (with the
    current row). ``expected_version=None`` skips the check: only for callers that were
    explicitly told to overwrite (e.g. ``If-Match: *``). Raises :class:`ProductNotFound`,
    :class:`ProductValidationError`.
    """
    cleaned = validate_product_data(data, partial=True)
    product = await _lock(session, product_id)
    if expected_version is not None and product.version != expected_version:
        return Conflict(current=await get_product(session, product_id),  # type: ignore[arg-type]
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
        return Saved(product=await get_product(session, product.id), changes={})  # type: ignore[arg-type]
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
        current = await get_product(session, product.id)
        return Conflict(current=current, expected_version=product.version)  # type: ignore[arg-type]
    await record_revision(session, product_id=product.id, user_id=user_id, source=source,
                          version=new_version, changes=changes)
    return Saved(product=await get_product(session, product.id), changes=changes)  # type: ignore[arg-type]


async def deactivate_product(session: AsyncSession, product_id: int, *,
                             expected_version: int | None, user_id: int | None,
                             source: str) -> UpdateResult:
    """Soft delete: hide the product from shoppers (``is_active = false``), keeping its row and
    history so it can be undone with :func:`reactivate_product`."""
    return await update_product(session, product_id, {"is_active": False},
                                expected_version=expected_version, user_id=user_id,
                                source=source)


async def reactivate_product(session: AsyncSession, product_id: int, *,
                             expected_version: int | None, user_id: int | None,
                             source: str) -> UpdateResult:
    """Undo a soft delete (``is_active = true``)."""
    return await update_product(session, product_id, {"is_active": True},
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
    await record_revision(session, product_id=product.id, user_id=user_id, source=source,
                          version=1, changes={"slug": {"before": None, "after": product.slug},
                                              **creation_changes(snapshot(product))})
    return await get_product(session, product.id)  # type: ignore[return-value]


async def restore_version(session: AsyncSession, product_id: int, *, to_version: int,
                          expected_version: int | None, user_id: int | None,
                          source: str = "restore") -> UpdateResult:
    """Bring back the values the product had at ``to_version`` as a new version (history is
    never rewritten). Version-checked like :func:`update_product`. Raises
    :class:`RestoreError` if that version cannot be rebuilt or its category is gone."""
    product = await _lock(session, product_id)
    if expected_version is not None and product.version != expected_version:
        return Conflict(current=await get_product(session, product_id),  # type: ignore[arg-type]
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


# -- bulk ---------------------------------------------------------------------------------------

BulkKind = Literal["activate", "deactivate", "set_category", "adjust_price"]


@dataclass(frozen=True)
class BulkAction:
    """What a bulk action does. ``adjust_price`` takes exactly one of ``percent`` (e.g.
    ``Decimal("-10")`` for 10 % off) or ``amount`` (e.g. ``Decimal("2.50")``); new prices are
    rounded to cents and never below 0."""

    kind: BulkKind
    category_id: int | None = None
    percent: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class BulkResult:
    """``matched``: products found among the ids; ``changed``: those actually changed (rows
    already in the asked state are left alone, without a revision)."""

    matched: int
    changed: int
    changed_ids: list[int]


def _bulk_parts(action: BulkAction) -> tuple[str, str, str, dict[str, Any]]:
    """(column, new value SQL, JSON cast SQL, parameters) for a bulk action."""
    if action.kind == "activate":
        return "is_active", "true", "", {}
    if action.kind == "deactivate":
        return "is_active", "false", "", {}
    if action.kind == "set_category":
        if action.category_id is None:
            raise BulkError("Choose a category.")
        return "category_id", "CAST(:category_id AS integer)", "", {
            "category_id": action.category_id}
    if action.kind == "adjust_price":
        if (action.percent is None) == (action.amount is None):
            raise BulkError("Give either a percentage or an amount to change prices by.")
        if action.percent is not None:
            if not MIN_PERCENT <= action.percent <= MAX_PERCENT:
                raise BulkError("The percentage must be between -100 and 1000.")
            expr = "greatest(0, round(old.price * (1 + CAST(:percent AS numeric) / 100), 2))"
            return "price", expr, "::text", {"percent": action.percent}
        if action.amount is None or abs(action.amount) > MAX_PRICE:
            raise BulkError("The amount must be between -99,999,999.99 and 99,999,999.99.")
        expr = "greatest(0, round(old.price + CAST(:amount AS numeric), 2))"
        return "price", expr, "::text", {"amount": action.amount}
    raise BulkError(f"Unknown bulk action {action.kind!r}.")


async def bulk_update(session: AsyncSession, product_ids: Sequence[int], action: BulkAction, *,
                      user_id: int | None, source: str = "bulk") -> BulkResult:
    """Apply ``action`` to every product in ``product_ids``: all or nothing.

    Rows are locked in id order (no deadlocks between two bulk actions), then one statement
    updates those whose value changes (bumping ``version``) and records one revision each.
    Runs in a savepoint: on any failure (e.g. a price that would overflow, a category deleted
    meanwhile) nothing is changed and :class:`BulkError` explains why. The caller commits.
    Limits on how many rows one action may touch are the caller's policy.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown revision source {source!r}")
    column, new_value, cast, params = _bulk_parts(action)
    if action.kind == "set_category":
        await _check_bulk_category(session, action.category_id)  # type: ignore[arg-type]
    ids = sorted({int(i) for i in product_ids if 1 <= int(i) <= MAX_ID})
    ids_param = bindparam("ids", value=ids, type_=ARRAY(BigInteger))
    lock = text("SELECT id FROM products WHERE id = ANY(:ids) ORDER BY id FOR UPDATE")
    change = text(
        f"""
        WITH changed AS (
            UPDATE products AS p
               SET {column} = {new_value}, version = p.version + 1, updated_at = now()
              FROM products AS old
             WHERE old.id = p.id AND p.id = ANY(:ids)
               AND {new_value} IS DISTINCT FROM old.{column}
         RETURNING p.id, p.version, old.{column} AS before_value, p.{column} AS after_value
        )
        INSERT INTO product_revisions (product_id, user_id, source, version, changes)
        SELECT id, CAST(:user_id AS integer), CAST(:source AS varchar), version,
               jsonb_build_object(CAST(:field AS text), jsonb_build_object(
                   'before', to_jsonb(before_value{cast}), 'after', to_jsonb(after_value{cast})))
          FROM changed
        RETURNING product_id
        """  # noqa: S608 - column/expressions come from _bulk_parts, never from input
    ).bindparams(ids_param)
    try:
        async with session.begin_nested():
            matched = len((await session.execute(lock.bindparams(ids_param))).all())
            changed = (await session.scalars(
                change, {"user_id": user_id, "source": source, "field": column, **params}
            )).all()
    except DBAPIError as error:
        raise BulkError(_bulk_failure_message(error)) from error
    return BulkResult(matched=matched, changed=len(changed), changed_ids=sorted(changed))


async def _check_bulk_category(session: AsyncSession, category_id: int) -> None:
    if await session.get(Category, category_id) is None:
        raise BulkError("That category does not exist.")


def _bulk_failure_message(error: DBAPIError) -> str:
    code = getattr(error.orig, "sqlstate", None) or getattr(
        getattr(error.orig, "__cause__", None), "sqlstate", None)
    text_ = str(error.orig).lower()
    if code == "22003" or "overflow" in text_:
        return ("The new price of at least one product would be more than 99,999,999.99. "
                "Nothing was changed.")
    if code == "23503" or "foreign key" in text_:
        return "That category no longer exists. Nothing was changed."
    return "The bulk change failed and nothing was changed."
