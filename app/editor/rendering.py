"""Responses of the editor: a fragment for htmx (plus a notice for the ``#messages`` region),
a full page otherwise; the filtered list a row action returns to; and the 404 for a product
that is gone, whichever view noticed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.redirects import safe_next
from ..data.products import ProductNotFound
from ..web.commands import new_command_key
from ..web.errors import error_response
from ..web.htmx import is_htmx, retarget_to_messages
from .blueprint import bp

PRODUCT_GONE = "That product does not exist (any more)."

# Every editor form renders a one-time command key (``command_field()`` in macros.html).
bp.add_app_template_global(new_command_key, "command_key")


def back_to_list() -> str:
    """The filtered products list this request belongs to: the ``next`` a form carries (the edit
    page's), else the list htmx was showing (``HX-Current-URL``), else the whole list. Only a
    path of this site is ever used."""
    default = url_for("editor.products")
    wanted = request.values.get("next")
    if not wanted and is_htmx():
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        wanted = current.path + (f"?{current.query}" if current.query else "")
    target = safe_next(wanted, default)
    return target if urlsplit(target).path == default else default


def notice_html(notice: dict[str, Any] | None) -> str:
    """An ``<hx-partial>`` that puts ``notice`` (text, optional undo) into ``#messages``."""
    if not notice:
        return ""
    return render_template("partials/editor/notice.html", notice=notice)


def fragment(partial: str, /, *, status: int = 200, notice: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, **context: Any) -> Response:
    """Render an htmx fragment, with an optional out-of-band notice."""
    html = render_template(partial, **context) + notice_html(notice)
    response = make_response(html, status)
    response.headers.update(headers or {})
    return response


def page_or_fragment(page_template: str, partial: str, /, *, status: int = 200,
                     notice: dict[str, Any] | None = None, **context: Any) -> Response:
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
                     **context: Any) -> Response:
    """A message for htmx's ``#messages`` region, whatever element made the request."""
    return retarget_to_messages(make_response(
        render_template(template, message=message, kind=kind, **context), status))


@bp.errorhandler(ProductNotFound)
def product_gone(error: ProductNotFound) -> ResponseReturnValue:
    """The product service found no such product (deleted meanwhile, or never there)."""
    return error_response(404, PRODUCT_GONE)
