"""Categories: listing them with their usage, the choices product forms offer, and the admin's
changes (create, rename, move under a parent, delete when empty).

The rules: a name is 1-120 characters (whitespace collapsed) and unique among its siblings
(case-insensitive); categories go one level deep (a parent is a top-level category, and a
category with sub-categories stays at the top); only a category without products and
sub-categories can be deleted. A refusal raises :class:`CategoryInvalid` (the input cannot be
accepted) or :class:`CategoryInUse` (the category is in use), with a message for people.

These functions flush but never commit: the caller owns the transaction. A caller that changes
a category locks it first (``get_or_404(..., lock=True)``), so two admins cannot interleave.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from .models import Category, Product
from .slugs import slugify, unique_slug

MAX_NAME = 120
#: Leaves room for "-<n>" in the 140-character slug column.
MAX_SLUG_BASE = 128


class CategoryError(ValueError):
    """A change to categories was refused; ``str(error)`` says why, for people."""


class CategoryInvalid(CategoryError):
    """The name or the parent cannot be accepted."""


class CategoryInUse(CategoryError):
    """The category still has products or sub-categories."""


@dataclass(frozen=True)
class CategoryRow:
    """One line of the admin's category list."""

    id: int
    name: str
    slug: str
    parent_id: int | None
    products: int
    children: int

    @property
    def deletable(self) -> bool:
        return self.products == 0 and self.children == 0


async def category_rows(session: AsyncSession) -> list[CategoryRow]:
    """Top-level categories each followed by their sub-categories, with usage counts."""
    child = aliased(Category)
    products = (select(func.count(Product.id)).where(Product.category_id == Category.id)
                .correlate(Category).scalar_subquery())
    children = (select(func.count(child.id)).where(child.parent_id == Category.id)
                .correlate(Category).scalar_subquery())
    rows = (await session.execute(
        select(Category.id, Category.name, Category.slug, Category.parent_id, products, children)
    )).all()
    items = [CategoryRow(*row) for row in rows]
    tops = sorted((c for c in items if c.parent_id is None), key=lambda c: c.name.casefold())
    ordered: list[CategoryRow] = []
    for top in tops:
        ordered.append(top)
        ordered.extend(sorted((c for c in items if c.parent_id == top.id),
                              key=lambda c: c.name.casefold()))
    return ordered


async def category_choices(session: AsyncSession) -> list[tuple[int, str]]:
    """(id, label) of every category, sub-categories as "Parent › Child", sorted."""
    parent = aliased(Category)
    rows = (await session.execute(
        select(Category.id, Category.name, parent.name)
        .outerjoin(parent, parent.id == Category.parent_id)
    )).all()
    labelled = [(row[0], f"{row[2]} › {row[1]}" if row[2] else row[1]) for row in rows]
    return sorted(labelled, key=lambda item: item[1].casefold())


def clean_name(name: str | None) -> str:
    """The name with its whitespace collapsed, or :class:`CategoryInvalid`."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise CategoryInvalid("Enter a name.")
    if len(cleaned) > MAX_NAME:
        raise CategoryInvalid(f"Name can be at most {MAX_NAME} characters.")
    return cleaned


async def _check_parent(session: AsyncSession, parent_id: int | None,
                        moving: Category | None) -> None:
    if parent_id is None:
        return
    parent = await session.get(Category, parent_id)
    if parent is None:
        raise CategoryInvalid("That parent category does not exist.")
    if moving is not None and parent.id == moving.id:
        raise CategoryInvalid("A category cannot be its own parent.")
    if parent.parent_id is not None:
        raise CategoryInvalid(f"“{parent.name}” is itself a sub-category; categories go "
                              "only one level deep.")
    if moving is not None and await _child_count(session, moving.id):
        raise CategoryInvalid(f"“{moving.name}” has sub-categories, so it cannot be put "
                              "under another category.")


async def _check_name(session: AsyncSession, name: str, parent_id: int | None,
                      exclude: int | None) -> None:
    clash = await session.scalar(
        select(Category.id).where(func.lower(Category.name) == name.lower(),
                                  Category.parent_id.is_(None) if parent_id is None
                                  else Category.parent_id == parent_id,
                                  Category.id != (exclude or 0)))
    if clash is not None:
        raise CategoryInvalid(f"There is already a category called “{name}” there.")


async def _child_count(session: AsyncSession, category_id: int) -> int:
    return await session.scalar(
        select(func.count(Category.id)).where(Category.parent_id == category_id)) or 0


async def create_category(session: AsyncSession, name: str | None,
                          parent_id: int | None) -> Category:
    """Add a category (slug from the name, unique) under ``parent_id`` (None: top level)."""
    name = clean_name(name)
    await _check_parent(session, parent_id, None)
    await _check_name(session, name, parent_id, None)
    slug = await unique_slug(session, Category.slug,
                             slugify(name, fallback="category", max_length=MAX_SLUG_BASE))
    category = Category(name=name, slug=slug, parent_id=parent_id)
    session.add(category)
    await session.flush()
    return category


async def change_category(session: AsyncSession, category: Category, name: str | None,
                          parent_id: int | None) -> Category:
    """Rename ``category`` (locked by the caller) and/or move it (``parent_id`` None: top
    level). Its slug stays, so links to it keep working."""
    name = clean_name(name)
    if parent_id != category.parent_id:
        await _check_parent(session, parent_id, category)
    await _check_name(session, name, parent_id, category.id)
    category.name, category.parent_id = name, parent_id
    await session.flush()
    return category


async def delete_category(session: AsyncSession, category: Category) -> None:
    """Delete ``category`` (locked by the caller) if nothing uses it, else
    :class:`CategoryInUse`. A product that arrives meanwhile is refused by the foreign key,
    which is reported the same way (the caller rolls back)."""
    products = await session.scalar(
        select(func.count(Product.id)).where(Product.category_id == category.id)) or 0
    if products:
        raise CategoryInUse(f"“{category.name}” still has {products:,} product"
                            f"{'' if products == 1 else 's'}; move them first.")
    if await _child_count(session, category.id):
        raise CategoryInUse(f"“{category.name}” still has sub-categories.")
    name = category.name
    await session.delete(category)
    try:
        await session.flush()
    except IntegrityError:
        raise CategoryInUse(f"“{name}” is in use; nothing was deleted.") from None
