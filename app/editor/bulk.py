"""Bulk actions on the editor table: the selected rows, or every row matching the filter.

One action is one transaction through :func:`app.data.products.bulk_update`: all rows change or
none, and it is applied at most once (:func:`app.web.commands.once`: a double-click on Apply is
one change; the form, which stays on the page, gets a fresh key with every success). More rows
than ``BULK_CONFIRM_LIMIT`` (default 500) are refused until the editor confirms;
``BULK_MAX_ROWS`` (default 20,000) is a hard ceiling.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import current_app, g, make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..data import products as svc
from ..data.database import get_session
from ..web import parsing
from ..web.commands import once
from ..web.htmx import is_htmx
from .blueprint import bp
from .forms import BulkForm
from .listing import (
    EditorFilters,
    count_matching,
    matching_ids,
)
from .rendering import done, message_fragment, page_or_fragment
from .table import PAGE, REGION, table_context

MAX_IDS_PER_REQUEST = 1000  # a page shows 50; selections come from one page at a time
BAD_SELECTION = "The selection is not valid. Reload the page and try again."
FRESH_KEY = "partials/editor/fresh_key.html"


def _limits() -> tuple[int, int]:
    config = current_app.config
    return int(config["BULK_CONFIRM_LIMIT"]), int(config["BULK_MAX_ROWS"])


class BulkRefused(Exception):
    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _action(form: BulkForm) -> svc.BulkAction:
    kind = form.action.data
    if kind in ("activate", "deactivate"):
        return svc.BulkAction(kind)
    if kind == "set_category":
        if not form.category_id.data:
            raise BulkRefused("Choose the category to move the products to.")
        return svc.BulkAction("set_category", category_id=form.category_id.data)
    raw = (form.value.data or "").strip().rstrip("%").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise BulkRefused("Enter the change as a number, like -10 or 2.50.")
    if value != value.quantize(Decimal("0.01")):
        raise BulkRefused("The change can have at most two decimal places.")
    if kind == "price_percent":
        return svc.BulkAction("adjust_price", percent=value)
    return svc.BulkAction("adjust_price", amount=value)


def _selected_ids() -> list[int]:
    raw = request.form.getlist("ids")
    if len(raw) > MAX_IDS_PER_REQUEST:
        raise BulkRefused(f"Select at most {MAX_IDS_PER_REQUEST:,} rows at a time, or use "
                          "“All matching the filter”.")
    try:
        return parsing.product_ids(raw, BAD_SELECTION)
    except parsing.BadInput as error:
        raise BulkRefused(error.message, 400) from None


def _confirmation(count: int, limit: int) -> ResponseReturnValue:
    """428: ask before changing more than ``limit`` rows; the answer resends the same form."""
    message = (f"This would change up to {count:,} products, more than the {limit:,} that can be "
               "changed without confirming.")
    fields = [(name, value) for name, values in request.form.lists() for value in values
              if name not in ("csrf_token", "confirm")]
    if not is_htmx():
        return page_or_fragment("editor/message.html", "partials/editor/bulk_confirm.html",
                                status=428, message=message, count=count, fields=fields)
    return message_fragment(message, 428, template="partials/editor/bulk_confirm.html",
                            fields=fields, count=count)


@bp.post("/products/bulk")
@editor_required
@once
async def bulk() -> ResponseReturnValue:
    session = await get_session()
    form = BulkForm(formdata=request.form)
    filters = EditorFilters.from_args(request.form, prefix="filter_")
    confirm_limit, max_rows = _limits()
    try:
        if not form.validate():
            raise BulkRefused("Choose a bulk action.")
        action = _action(form)
        if form.scope.data == "filter":
            count = await count_matching(session, filters, max_rows)
            if count > max_rows:
                raise BulkRefused(f"The filter matches {count:,} products; one bulk action can "
                                  f"change at most {max_rows:,}. Narrow the filter.")
            ids = await matching_ids(session, filters, max_rows)
        else:
            ids = _selected_ids()
        if not ids:
            raise BulkRefused("Select at least one product first.")
        if len(ids) > confirm_limit and request.form.get("confirm") != "1":
            return _confirmation(len(ids), confirm_limit)
        result = await svc.bulk_update(session, ids, action, user_id=g.user.id)
    except (BulkRefused, svc.BulkError) as error:
        await session.rollback()
        status = getattr(error, "status", 422)
        message = getattr(error, "message", None) or str(error)
        if not is_htmx():
            return page_or_fragment("editor/message.html", "partials/editor/message.html",
                                    status=status, message=message, kind="error",
                                    back=url_for("editor.products", **filters.args()))
        return message_fragment(message, status)
    label = BulkForm.ACTIONS[form.action.data].lower()
    notice = {"text": f"{label.capitalize()}: changed {result.changed:,} of {result.matched:,} "
                      f"product{'' if result.matched == 1 else 's'}."}
    if not is_htmx():
        return done(notice, url_for("editor.products", **filters.args()))
    response = make_response(page_or_fragment(PAGE, REGION, notice=notice,
                                              **await table_context(session, filters)))
    response.set_data(response.get_data()
                      + render_template(FRESH_KEY, target="bulk-key").encode())
    return response

