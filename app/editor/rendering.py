"""Responses of the editor: a fragment for htmx (plus a notice for the ``#messages`` region),
a full page otherwise, and the categories every row form offers."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ..data.models import Category
from ..web.htmx import is_htmx


def notice_html(notice: dict[str, Any] | None) -> str:
    """An ``<hx-partial>`` that puts ``notice`` (text, optional undo) into ``#messages``."""
    if not notice:
        return ""
    return render_template("partials/editor/notice.html", notice=notice)


def fragment(partial: str, /, *, status: int = 200, notice: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, **context: Any) -> ResponseReturnValue:
    """Render an htmx fragment, with an optional out-of-band notice."""
    html = render_template(partial, **context) + notice_html(notice)
    response = make_response(html, status)
    response.headers.update(headers or {})
    return response


def page_or_fragment(page_template: str, partial: str, /, *, status: int = 200,
                     notice: dict[str, Any] | None = None, **context: Any) -> ResponseReturnValue:
    """The fragment for htmx, else the full page (which includes the same partial)."""
    if is_htmx():
        return fragment(partial, status=status, notice=notice, **context)
    if notice:
        context["page_notice"] = notice
    return make_response(render_template(page_template, partial=partial, **context), status)


def done(notice: dict[str, Any] | str, location: str) -> ResponseReturnValue:
    """After a plain (non-htmx) form post: flash the notice and redirect (post/redirect/get)."""
    text = notice["text"] if isinstance(notice, dict) else notice
    flash(text, "ok")
    return redirect(location, code=303)


def message_fragment(message: str, status: int, /, *, kind: str = "error",
                     template: str = "partials/editor/message.html",
                     **context: Any) -> ResponseReturnValue:
    """A message for htmx's ``#messages`` region, whatever element made the request."""
    response = make_response(render_template(template, message=message, kind=kind, **context),
                             status)
    response.headers["HX-Retarget"] = "#messages"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


async def category_choices(session: AsyncSession) -> list[tuple[int, str]]:
    """(id, label) of every category, sub-categories as "Parent › Child", sorted."""
    parent = aliased(Category)
    rows = (await session.execute(
        select(Category.id, Category.name, parent.name)
        .outerjoin(parent, parent.id == Category.parent_id)
    )).all()
    labelled = [(row[0], f"{row[2]} › {row[1]}" if row[2] else row[1]) for row in rows]
    return sorted(labelled, key=lambda item: item[1].casefold())
