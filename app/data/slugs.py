"""Slugs: the readable, unique part of a product's or a category's URL, made from its name
(one rule for both, so links look alike)."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

MAX_BASE = 200  # leaves room for "-<n>" within the 220 (products) / 140 (categories) columns


def slugify(value: str, *, fallback: str = "product", max_length: int = MAX_BASE) -> str:
    """URL-safe lowercase ASCII: "Café Lamp, 2-pack" -> "cafe-lamp-2-pack"."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or fallback


async def unique_slug(session: AsyncSession, column: InstrumentedAttribute[str],
                      base: str) -> str:
    """``base``, with ``-2``, ``-3``... appended when ``column`` already holds it: one past the
    highest numbered sibling, so it is free unless a concurrent insert takes it first (the
    unique index refuses that one, and the caller tries again)."""
    if await session.scalar(select(column).where(column == base)) is None:
        return base
    # ``base`` is only [a-z0-9-], so it is a literal in a regular expression; still bound.
    taken = (await session.scalars(
        select(column).where(column.op("~")("^" + base + "(-[0-9]{1,9})?$"))
    )).all()
    numbers = [int(slug[len(base) + 1:]) if len(slug) > len(base) else 1 for slug in taken]
    return f"{base}-{max(numbers, default=1) + 1}"
