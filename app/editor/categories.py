"""Admins manage categories: create, rename, move under a parent (one level deep), delete
only when empty. The rules live in :mod:`app.data.categories`; this module turns its refusals
into the message under the form that was sent (422 for bad input, 409 for a category in use)."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import admin_required
from ..data import categories as service
from ..data.database import get_session
from ..data.live_actor import act_as
from ..data.lookups import get_or_404
from ..data.models import Category
from ..web.commands import once
from ..web.htmx import is_htmx
from .blueprint import bp
from .forms import CategoryForm
from .rendering import done, page_or_fragment

#: Which form a message belongs under: the create form, or the row of one category.
NEW = "new"


async def _render(*, status: int = 200, notice: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None,
                  create_form: CategoryForm | None = None) -> ResponseReturnValue:
    rows = await service.category_rows(await get_session())
    parents = [(row.id, row.name) for row in rows if row.parent_id is None]
    return page_or_fragment("editor/categories.html", "partials/editor/categories.html",
                            status=status, notice=notice, rows=rows, parents=parents,
                            errors=errors or {}, create_form=create_form or CategoryForm(
                                formdata=None))


async def _refused(error: service.CategoryError, form_key: str,
                   create_form: CategoryForm | None = None) -> ResponseReturnValue:
    await (await get_session()).rollback()
    status = 409 if isinstance(error, service.CategoryInUse) else 422
    return await _render(status=status, errors={form_key: str(error)}, create_form=create_form)


async def _finish(notice: str) -> ResponseReturnValue:
    """Render the outcome; :func:`~app.web.commands.once` commits it with its command key."""
    if not is_htmx():
        return done(notice, url_for("editor.categories"))
    return await _render(notice={"text": notice})


@bp.get("/categories")
@admin_required
async def categories() -> ResponseReturnValue:
    return await _render()


@bp.post("/categories")
@admin_required
@once
async def create_category() -> ResponseReturnValue:
    form = CategoryForm(formdata=request.form)
    await act_as(await get_session(), g.user.id, "admin")
    try:
        category = await service.create_category(await get_session(), form.name.data,
                                                 form.parent_id.data or None)
    except service.CategoryError as error:
        return await _refused(error, NEW, form)
    return await _finish(f"Created the category “{category.name}”.")


@bp.post("/categories/<id32:category_id>")
@admin_required
@once
async def update_category(category_id: int) -> ResponseReturnValue:
    """Rename and/or move (``parent_id`` empty = top level). Not locked here: the service
    locks the category with its new parent, in id order, so crossing moves cannot deadlock."""
    session = await get_session()
    category = await get_or_404(session, Category, category_id, fresh=True)
    form = CategoryForm(formdata=request.form)
    await act_as(session, g.user.id, "admin")
    try:
        await service.change_category(session, category, form.name.data,
                                      form.parent_id.data or None)
    except service.CategoryError as error:
        return await _refused(error, str(category_id))
    return await _finish(f"Saved the category “{category.name}”.")


@bp.route("/categories/<id32:category_id>/delete", methods=["POST", "DELETE"])
@admin_required
@once
async def delete_category(category_id: int) -> ResponseReturnValue:
    session = await get_session()
    category = await get_or_404(session, Category, category_id, lock=True)
    name = category.name
    await act_as(session, g.user.id, "admin")
    try:
        await service.delete_category(session, category)
    except service.CategoryError as error:
        return await _refused(error, str(category_id))
    return await _finish(f"Deleted the category “{name}”.")
