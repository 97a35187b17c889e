"""Bulk actions: one statement changes many products, all or nothing, one revision each.

Rows are locked in id order (two bulk actions never deadlock), then one ``UPDATE ... FROM``
changes only the rows whose value differs (bumping ``version``, so an editor who had one of
them open gets a conflict, not a lost update) and ``INSERT ... SELECT`` records their
revisions. A savepoint undoes everything if any row fails (a price overflow, a category
deleted meanwhile).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import BigInteger, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ..bounds import MAX_PRICE, MAX_PRODUCT_ID
from ..live_actor import act_as
from ..models import Category
from ..revisions import SOURCES
from .errors import BulkError

#: Bulk price changes: percent within this range, amount within +/- MAX_PRICE.
MIN_PERCENT, MAX_PERCENT = Decimal("-100"), Decimal("1000")

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
                raise BulkError(f"The percentage must be between {MIN_PERCENT} and "
                                f"{MAX_PERCENT}.")
            expr = "greatest(0, round(old.price * (1 + CAST(:percent AS numeric) / 100), 2))"
            return "price", expr, "::text", {"percent": action.percent}
        if action.amount is None or abs(action.amount) > MAX_PRICE:
            raise BulkError(f"The amount must be between -{MAX_PRICE:,} and {MAX_PRICE:,}.")
        expr = "greatest(0, round(old.price + CAST(:amount AS numeric), 2))"
        return "price", expr, "::text", {"amount": action.amount}
    raise BulkError(f"Unknown bulk action {action.kind!r}.")


async def bulk_update(session: AsyncSession, product_ids: Sequence[int], action: BulkAction, *,
                      user_id: int | None, source: str = "bulk",
                      announce_as: str | None = None) -> BulkResult:
    """Apply ``action`` to every product in ``product_ids``: all or nothing.

    Runs in a savepoint: on any failure nothing is changed and :class:`BulkError` explains
    why. The caller commits. Limits on how many rows one action may touch are the caller's
    policy. ``announce_as`` names the live feed's source when it is not the revision's (a
    background job).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown revision source {source!r}")
    column, new_value, cast, params = _bulk_parts(action)
    if action.category_id is not None and action.kind == "set_category":
        await _check_bulk_category(session, action.category_id)
    ids = sorted({int(i) for i in product_ids if 1 <= int(i) <= MAX_PRODUCT_ID})
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
            await act_as(session, user_id, announce_as or source)
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
        return (f"The new price of at least one product would be more than {MAX_PRICE:,}. "
                "Nothing was changed.")
    if code == "23503" or "foreign key" in text_:
        return "That category no longer exists. Nothing was changed."
    return "The bulk change failed and nothing was changed."
