"""Categories: listing them with their usage, the choices product forms offer, and the admin's
changes (create, rename, move under a parent, delete when empty).

The rules: a name is 1-120 characters (whitespace collapsed) and unique among its siblings
(case-insensitive); categories go one level deep (a parent is a top-level category, and a
category with sub-categories stays at the top); only a category without products and
sub-categories can be deleted. A refusal raises :class:`CategoryInvalid` (the input cannot be
accepted) or :class:`CategoryInUse` (the category is in use), with a message for people.

These functions flush but never commit: the caller owns the transaction. A create under a
parent and a change lock the rows involved (the category and its new parent) in id order, and
check the depth rule inside that lock, so concurrent moves queue instead of deadlocking and the
later one sees what the earlier one did (moving A under B while B moves under A: one succeeds,
the other is refused). The database backs the rules (migration 0005: a unique index on the
name per parent, a trigger for the depth); a change that loses a race against them is refused
with the same message as the check. A delete locks the category (``get_or_404(...,
lock=True)``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from .integrity import violated_constraint
from .models import Category, Product
from .slugs import insert_with_unique_slug, slugify

MAX_NAME = 120
#: Leaves room for "-<n>" in the 140-character slug column.
MAX_SLUG_BASE = 128
NO_PARENT = "That parent category does not exist."
GONE = "That category does not exist any more."
ONE_LEVEL = "Categories go only one level deep, so that change was refused."


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


async def _lock(session: AsyncSession, *ids: int | None) -> dict[int, Category]:
    """The categories ``ids`` that exist, locked in id order (``FOR NO KEY UPDATE``: products
    can still be added to them) and reloaded, so checks made now see every committed change
    and no other change to them can interleave until this transaction ends."""
    wanted = sorted({ident for ident in ids if ident is not None})
    rows = (await session.scalars(
        select(Category).where(Category.id.in_(wanted)).order_by(Category.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    )).all()
    return {row.id: row for row in rows}


async def _check_parent(session: AsyncSession, parent: Category | None,
                        moving: Category | None) -> None:
    """The depth rule, for rows locked by :func:`_lock` (``parent`` None: it does not exist)."""
    if parent is None:
        raise CategoryInvalid(NO_PARENT)
    if moving is not None and parent.id == moving.id:
        raise CategoryInvalid("A category cannot be its own parent.")
    if parent.parent_id is not None:
        raise CategoryInvalid(f"“{parent.name}” is itself a sub-category; categories go "
                              "only one level deep.")
    if moving is not None and await _child_count(session, moving.id):
        raise CategoryInvalid(f"“{moving.name}” has sub-categories, so it cannot be put "
                              "under another category.")


def _name_taken(name: str) -> CategoryInvalid:
    return CategoryInvalid(f"There is already a category called “{name}” there.")


async def _check_name(session: AsyncSession, name: str, parent_id: int | None,
                      exclude: int | None) -> None:
    clash = await session.scalar(
        select(Category.id).where(func.lower(Category.name) == func.lower(name),
                                  Category.parent_id.is_(None) if parent_id is None
                                  else Category.parent_id == parent_id,
                                  Category.id != (exclude or 0)))
    if clash is not None:
        raise _name_taken(name)


def _refusal(error: IntegrityError, name: str) -> CategoryInvalid:
    """The message for a write the database refused after our checks passed: a concurrent
    change committed in between. Anything else is a bug and is raised."""
    constraint = violated_constraint(error)
    if constraint == "uq_categories_parent_name":
        return _name_taken(name)
    if constraint == "categories_one_level":
        return CategoryInvalid(ONE_LEVEL)
    if constraint == "categories_parent_id_fkey":
        return CategoryInvalid(NO_PARENT)
    raise error


async def _child_count(session: AsyncSession, category_id: int) -> int:
    return await session.scalar(
        select(func.count(Category.id)).where(Category.parent_id == category_id)) or 0


async def create_category(session: AsyncSession, name: str | None,
                          parent_id: int | None) -> Category:
    """Add a category (slug from the name, unique) under ``parent_id`` (None: top level)."""
    name = clean_name(name)
    if parent_id is not None:
        await _check_parent(session, (await _lock(session, parent_id)).get(parent_id), None)
    await _check_name(session, name, parent_id, None)
    base = slugify(name, fallback="category", max_length=MAX_SLUG_BASE)
    try:
        async with session.begin_nested():
            return await insert_with_unique_slug(session, Category, base,
                                                 {"name": name, "parent_id": parent_id})
    except IntegrityError as error:
        raise _refusal(error, name) from None


async def change_category(session: AsyncSession, category: Category, name: str | None,
                          parent_id: int | None) -> Category:
    """Rename ``category`` and/or move it (``parent_id`` None: top level). Its slug stays, so
    links to it keep working. It and its new parent are locked here, in id order."""
    name = clean_name(name)
    locked = await _lock(session, category.id, parent_id)
    if category.id not in locked:
        raise CategoryInvalid(GONE)
    if parent_id != category.parent_id and parent_id is not None:
        await _check_parent(session, locked.get(parent_id), category)
    await _check_name(session, name, parent_id, category.id)
    category.name, category.parent_id = name, parent_id
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise _refusal(error, name) from None
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
