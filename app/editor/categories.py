"""Admins manage categories: create, rename, move under a parent (one level deep), delete
only when empty (no products, no sub-categories)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ..auth.access import admin_required
from ..data.database import get_session
from ..data.models import Category, Product
from ..data.products import slugify
from ..web.htmx import is_htmx
from . import bp
from .forms import CategoryForm
from .rendering import done, page_or_fragment


@dataclass(frozen=True)
class CategoryRow:
    id: int
    name: str
    slug: str
    parent_id: int | None
    parent_name: str | None
    products: int
    children: int

    @property
    def deletable(self) -> bool:
        return self.products == 0 and self.children == 0


class CategoryRefused(Exception):
    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


async def category_rows(session: AsyncSession) -> list[CategoryRow]:
    """Top-level categories each followed by their sub-categories, with usage counts."""
    parent = aliased(Category)
    child = aliased(Category)
    products = (select(func.count(Product.id)).where(Product.category_id == Category.id)
                .correlate(Category).scalar_subquery())
    children = (select(func.count(child.id)).where(child.parent_id == Category.id)
                .correlate(Category).scalar_subquery())
    rows = (await session.execute(
        select(Category.id, Category.name, Category.slug, Category.parent_id, parent.name,
               products, children)
        .outerjoin(parent, parent.id == Category.parent_id)
    )).all()
    items = [CategoryRow(*row) for row in rows]
    tops = sorted((c for c in items if c.parent_id is None), key=lambda c: c.name.casefold())
    ordered: list[CategoryRow] = []
    for top in tops:
        ordered.append(top)
        ordered.extend(sorted((c for c in items if c.parent_id == top.id),
                              key=lambda c: c.name.casefold()))
    return ordered


async def _render(*, status: int = 200, notice: dict | None = None, errors: dict | None = None,
                  create_form: CategoryForm | None = None) -> ResponseReturnValue:
    session = await get_session()
    rows = await category_rows(session)
    parents = [(row.id, row.name) for row in rows if row.parent_id is None]
    return page_or_fragment("editor/categories.html", "partials/editor/categories.html",
                            status=status, notice=notice, rows=rows, parents=parents,
                            errors=errors or {}, create_form=create_form or CategoryForm(
                                formdata=None))


def _finish(notice: str) -> ResponseReturnValue | None:
    if not is_htmx():
        return done(notice, url_for("editor.categories"))
    return None


async def _check_parent(session: AsyncSession, parent_id: int | None,
                        moving: Category | None, key: str) -> None:
    if parent_id is None:
        return
    parent = await session.get(Category, parent_id)
    if parent is None:
        raise CategoryRefused(key, "That parent category does not exist.")
    if moving is not None and parent.id == moving.id:
        raise CategoryRefused(key, "A category cannot be its own parent.")
    if parent.parent_id is not None:
        raise CategoryRefused(key, f"“{parent.name}” is itself a sub-category; categories go "
                                   "only one level deep.")
    if moving is not None and await session.scalar(
            select(func.count(Category.id)).where(Category.parent_id == moving.id)):
        raise CategoryRefused(key, f"“{moving.name}” has sub-categories, so it cannot be put "
                                   "under another category.")


async def _check_name(session: AsyncSession, name: str, parent_id: int | None,
                      exclude: int | None, key: str) -> None:
    clash = await session.scalar(
        select(Category.id).where(func.lower(Category.name) == name.lower(),
                                  Category.parent_id.is_(None) if parent_id is None
                                  else Category.parent_id == parent_id,
                                  Category.id != (exclude or 0)))
    if clash is not None:
        raise CategoryRefused(key, f"There is already a category called “{name}” there.")


async def _unique_slug(session: AsyncSession, name: str) -> str:
    base = slugify(name)
    slug, n = base, 1
    while await session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _form_values(form: CategoryForm) -> tuple[str, int | None]:
    name = " ".join((form.name.data or "").split())
    return name, form.parent_id.data or None


@bp.get("/categories")
@admin_required
async def categories() -> ResponseReturnValue:
    return await _render()


@bp.post("/categories")
@admin_required
async def create_category() -> ResponseReturnValue:
    session = await get_session()
    form = CategoryForm(formdata=request.form)
    try:
        if not form.validate():
            field, messages = next(iter(form.errors.items()))
            raise CategoryRefused("new", messages[0])
        name, parent_id = _form_values(form)
        if not name:
            raise CategoryRefused("new", "Enter a name.")
        await _check_parent(session, parent_id, None, "new")
        await _check_name(session, name, parent_id, None, "new")
        session.add(Category(name=name, slug=await _unique_slug(session, name),
                             parent_id=parent_id))
        await session.commit()
    except CategoryRefused as error:
        await session.rollback()
        return await _render(status=error.status, errors={error.field: error.message},
                             create_form=form)
    notice = f"Created the category “{name}”."
    return _finish(notice) or await _render(notice={"text": notice})


async def _locked_category(session: AsyncSession, category_id: int) -> Category:
    """The category, locked for this transaction's change, or 404."""
    category = await session.get(Category, category_id, with_for_update=True)
    if category is None:
        abort(404, "That category does not exist (any more).")
    return category


@bp.post("/categories/<id32:category_id>")
@admin_required
async def update_category(category_id: int) -> ResponseReturnValue:
    """Rename and/or move (``parent_id`` empty = top level)."""
    session = await get_session()
    category = await _locked_category(session, category_id)
    form = CategoryForm(formdata=request.form)
    try:
        if not form.validate():
            field, messages = next(iter(form.errors.items()))
            raise CategoryRefused(str(category_id), messages[0])
        name, parent_id = _form_values(form)
        if not name:
            raise CategoryRefused(str(category_id), "Enter a name.")
        if parent_id != category.parent_id:
            await _check_parent(session, parent_id, category, str(category_id))
        await _check_name(session, name, parent_id, category.id, str(category_id))
        category.name, category.parent_id = name, parent_id
        await session.commit()
    except CategoryRefused as error:
        await session.rollback()
        return await _render(status=error.status, errors={error.field: error.message})
    notice = f"Saved the category “{name}”."
    return _finish(notice) or await _render(notice={"text": notice})


@bp.route("/categories/<id32:category_id>/delete", methods=["POST", "DELETE"])
@admin_required
async def delete_category(category_id: int) -> ResponseReturnValue:
    session = await get_session()
    category = await _locked_category(session, category_id)
    key = str(category_id)
    try:
        products = await session.scalar(
            select(func.count(Product.id)).where(Product.category_id == category_id))
        if products:
            raise CategoryRefused(key, f"“{category.name}” still has {products:,} product"
                                       f"{'' if products == 1 else 's'}; move them first.", 409)
        if await session.scalar(select(func.count(Category.id))
                                .where(Category.parent_id == category_id)):
            raise CategoryRefused(key, f"“{category.name}” still has sub-categories.", 409)
        name = category.name
        await session.delete(category)
        try:
            await session.commit()
        except IntegrityError:  # a product arrived meanwhile: the foreign key refuses
            raise CategoryRefused(key, f"“{name}” is in use; nothing was deleted.", 409) \
                from None
    except CategoryRefused as error:
        await session.rollback()
        return await _render(status=error.status, errors={error.field: error.message})
    notice = f"Deleted the category “{name}”."
    return _finish(notice) or await _render(notice={"text": notice})
