"""Slugs: the readable, unique part of a product's or a category's URL, made from its name
(one rule for both, so links look alike).

A new row gets its slug from :func:`insert_with_unique_slug`, which cannot lose a race: the
unique index on ``slug`` is the arbiter (``INSERT ... ON CONFLICT (slug) DO NOTHING``, which
waits for a concurrent insert of the same slug to commit or roll back), and a slug found taken
is followed by the next free one, never by an error. Inserts from the same base take a
transaction-level advisory lock on it first, so concurrent copies of one product queue for a
moment instead of all trying the same candidate.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from .models import Category, Product

Sluggable = TypeVar("Sluggable", Product, Category)

MAX_BASE = 200  # leaves room for "-<n>" within the 220 (products) / 140 (categories) columns


def slugify(value: str, *, fallback: str = "product", max_length: int = MAX_BASE) -> str:
    """URL-safe lowercase ASCII: "Café Lamp, 2-pack" -> "cafe-lamp-2-pack"."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or fallback


async def unique_slug(session: AsyncSession, column: InstrumentedAttribute[str],
                      base: str) -> str:
    """``base``, with ``-2``, ``-3``... appended when ``column`` already holds it: one past the
    highest numbered sibling, so it is free unless a concurrent insert takes it first (see
    :func:`insert_with_unique_slug`, which then moves on to the next)."""
    if await session.scalar(select(column).where(column == base)) is None:
        return base
    # ``base`` is only [a-z0-9-], so it is a literal in a regular expression; still bound.
    taken = (await session.scalars(
        select(column).where(column.op("~")("^" + base + "(-[0-9]{1,9})?$"))
    )).all()
    numbers = [int(slug[len(base) + 1:]) if len(slug) > len(base) else 1 for slug in taken]
    return f"{base}-{max(numbers, default=1) + 1}"


async def insert_with_unique_slug(session: AsyncSession, model: type[Sluggable], base: str,
                                  values: Mapping[str, Any]) -> Sluggable:
    """Insert a ``model`` row with ``values`` and the first free slug from ``base``; the new
    row (server defaults loaded).

    Every attempt either inserts or finds its slug committed by someone else, so the loop
    always ends; the advisory lock makes the first attempt the one that succeeds whenever the
    competitors share the base. Other constraints (a foreign key, a unique name) still raise
    :class:`~sqlalchemy.exc.IntegrityError` for the caller to report.
    """
    column = model.slug
    await session.execute(select(func.pg_advisory_xact_lock(
        func.hashtext(f"{model.__tablename__}.slug:{base}"))))
    while True:
        candidate = await unique_slug(session, column, base)
        row = await session.scalar(
            insert(model).values(**values, slug=candidate)
            .on_conflict_do_nothing(index_elements=[column]).returning(model)
        )
        if row is not None:
            return row
