"""Bulk actions on the editor table: the selected rows, or every row matching the filter.

One action is one transaction through :func:`app.data.products.bulk_update`: all rows change or
none, and it is applied at most once (:func:`app.web.commands.once`: a double-click on Apply is
one change; the form, which stays on the page, gets a fresh key with every success).
``BULK_MAX_ROWS`` (default 20,000) is a hard ceiling; an action on more than ``BULK_JOB_ROWS``
(default 2,000) rows runs as a background job with progress (:mod:`.jobs`), queued in the same
transaction as the command key, so a repeated submit queues it once. An action on more rows than
``BULK_CONFIRM_LIMIT`` (default 500), or one that hides more than one product, is first shown as
a confirmation bound to exactly what it says (:mod:`.confirmations`): 428 with the confirmation,
then the confirming request carries only its signed token. A token whose rows changed meanwhile
gets 409 with the new count and a fresh confirmation; a tampered one 400; an expired one a fresh
confirmation (428). Nothing is applied in any of these cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, g, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..catalog.tree import load_category_tree
from ..data import products as svc
from ..data.categories import category_choices
from ..data.database import get_session
from ..jobs.bulk import start_bulk_job
from ..jobs.status import get_job
from ..web import parsing
from ..web.commands import once
from ..web.htmx import is_htmx
from . import confirmations
from .blueprint import bp
from .confirmations import BulkChoice
from .forms import BulkForm
from .jobs import BOX as JOB_BOX
from .jobs import job_context
from .listing import EditorFilters, matching_ids
from .rendering import done, fragment, message_fragment, page_or_fragment
from .table import PAGE, REGION, table_context

MAX_IDS_PER_REQUEST = 1000  # the browser keeps at most 500 selected rows across pages
BAD_SELECTION = "The selection is not valid. Reload the page and try again."
BAD_CONFIRMATION = ("This confirmation is not valid, so nothing was changed. Choose the bulk "
                    "action again.")
FRESH_KEY = "partials/editor/fresh_key.html"
CONFIRMATION_REGION = "#bulk-confirmation"
#: Clears the confirmation region (sent with every outcome that is not a confirmation).
CLEAR_CONFIRMATION = (
    f'<hx-partial hx-target="{CONFIRMATION_REGION}" hx-swap="innerHTML"></hx-partial>')


def _limits() -> tuple[int, int]:
    config = current_app.config
    return int(config["BULK_CONFIRM_LIMIT"]), int(config["BULK_MAX_ROWS"])


class BulkRefused(Exception):
    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _price_change(raw: str | None) -> str:
    text = (raw or "").strip().rstrip("%").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise BulkRefused("Enter the change as a number, like -10 or 2.50.")
    if value != value.quantize(Decimal("0.01")):
        raise BulkRefused("The change can have at most two decimal places.")
    return str(value.quantize(Decimal(1)) if value == value.to_integral_value() else value)


def _selected_ids() -> tuple[int, ...]:
    raw = request.form.getlist("ids")
    if len(raw) > MAX_IDS_PER_REQUEST:
        raise BulkRefused(f"Select at most {MAX_IDS_PER_REQUEST:,} rows at a time, or use "
                          "“All matching the filter”.")
    try:
        return tuple(parsing.product_ids(raw, BAD_SELECTION))
    except parsing.BadInput as error:
        raise BulkRefused(error.message, 400) from None


def _choice_from_form(filters: EditorFilters) -> BulkChoice:
    """The editor's choice as the bulk form sent it (validated)."""
    form = BulkForm(formdata=request.form)
    if not form.validate():
        raise BulkRefused("Choose a bulk action.")
    kind = form.action.data or ""
    params: dict[str, Any] = {}
    if kind == "set_category":
        if not form.category_id.data:
            raise BulkRefused("Choose the category to move the products to.")
        params["category_id"] = form.category_id.data
    elif kind.startswith("price_"):
        params["value"] = _price_change(form.value.data)
    if form.scope.data == "filter":
        return BulkChoice.for_filter(kind, filters, **params)
    return BulkChoice(kind, "selected", ids=_selected_ids(), **params)


def _action(choice: BulkChoice) -> svc.BulkAction:
    if choice.action == "activate":
        return svc.BulkAction("activate")
    if choice.action == "deactivate":
        return svc.BulkAction("deactivate")
    if choice.action == "set_category":
        return svc.BulkAction("set_category", category_id=choice.category_id)
    value = Decimal(choice.value or "0")
    if choice.action == "price_percent":
        return svc.BulkAction("adjust_price", percent=value)
    return svc.BulkAction("adjust_price", amount=value)


async def _rows(choice: BulkChoice, max_rows: int) -> list[int]:
    """The ids the choice would change now."""
    if choice.scope == "selected":
        if not choice.ids:
            raise BulkRefused("Select at least one product first.")
        return list(choice.ids)
    ids = await matching_ids(await get_session(), choice.filters, max_rows + 1)
    if len(ids) > max_rows:
        raise BulkRefused(f"The filter matches more than {max_rows:,} products; one bulk action "
                          f"can change at most {max_rows:,}. Narrow the filter.")
    if not ids:
        raise BulkRefused("No products match the filter, so there is nothing to change.")
    return ids


def _needs_confirmation(choice: BulkChoice, count: int, limit: int) -> bool:
    return count > limit or (choice.action == "deactivate" and count > 1)


async def _confirmation(choice: BulkChoice, ids: Sequence[int], status: int, *,
                        back: str, reason: str | None = None) -> ResponseReturnValue:
    """The confirmation of ``choice`` on ``ids``: 428 (asked), or 409 (the rows changed)."""
    session = await get_session()
    limit, _ = _limits()
    categories = dict(await category_choices(session))
    context: dict[str, Any] = {
        "count": len(ids), "limit": limit, "reason": reason, "choice": choice,
        "token": confirmations.sign(choice, ids), "verb": confirmations.verb(choice),
        "action_text": confirmations.action_text(
            choice, categories, current_app.config["CATALOG_CURRENCY_SYMBOL"]),
        "filter_words": (confirmations.filter_text(choice, await load_category_tree(session))
                         if choice.scope == "filter" else None),
        "table_args": {name: value for name, value in request.form.items()
                       if name.startswith("filter_")},
        "back": back, "message": reason or "Confirm the bulk change.",
    }
    if not is_htmx():
        return page_or_fragment("editor/message.html", "partials/editor/bulk_confirm.html",
                                status=status, **context)
    response = fragment("partials/editor/bulk_confirm.html", status=status, **context)
    response.headers["HX-Retarget"] = CONFIRMATION_REGION
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def _refused(message: str, status: int, back: str) -> ResponseReturnValue:
    if not is_htmx():
        return page_or_fragment("editor/message.html", "partials/editor/message.html",
                                status=status, message=message, kind="error", back=back)
    response = message_fragment(message, status)
    response.set_data(response.get_data(as_text=True) + CLEAR_CONFIRMATION)
    return response


async def _as_job(ids: Sequence[int], action: svc.BulkAction, back: str) -> ResponseReturnValue:
    """Queue a large change as a background job (committed with the command key by ``@once``):
    htmx gets the job's progress box at the top of the page, a plain form the job's page."""
    job_id = await start_bulk_job(await get_session(), ids, action, user_id=g.user.id)
    if not is_htmx():
        return done(f"The change of {len(ids):,} products runs in the background.",
                    url_for("editor.job", job_id=job_id))
    job = await get_job(await get_session(), job_id)
    assert job is not None
    response = fragment(JOB_BOX, **job_context(job))
    response.headers["HX-Retarget"] = "#jobs"
    response.headers["HX-Reswap"] = "afterbegin"
    response.set_data(response.get_data(as_text=True) + CLEAR_CONFIRMATION
                      + render_template(FRESH_KEY, target="bulk-key"))
    return response


@bp.post("/products/bulk")
@editor_required
@once
async def bulk() -> ResponseReturnValue:
    session = await get_session()
    table_filters = EditorFilters.from_args(request.form, prefix="filter_")
    back = url_for("editor.products", **table_filters.args())
    confirm_limit, max_rows = _limits()
    token = request.form.get("confirm_token")
    try:
        confirmed = expired = None
        if token:
            try:
                confirmed = confirmations.verify(token)
                choice = confirmed.choice
            except confirmations.ExpiredConfirmation as error:
                expired, choice = error, error.choice
            except confirmations.InvalidConfirmation:
                raise BulkRefused(BAD_CONFIRMATION, 400) from None
        else:
            choice = _choice_from_form(table_filters)
        action = _action(choice)
        ids = await _rows(choice, max_rows)
        if expired is not None:
            return await _confirmation(choice, ids, 428, back=back, reason=(
                "That confirmation had expired, so nothing was changed. Here it is again with "
                "the current count."))
        if confirmed is not None:
            if (len(ids), confirmations.digest(ids)) != (confirmed.count, confirmed.digest):
                return await _confirmation(choice, ids, 409, back=back, reason=(
                    f"The products this would change are no longer the ones you confirmed: it "
                    f"was {confirmed.count:,}, it is now {len(ids):,}. Nothing was changed. "
                    "Check and confirm again."))
        elif _needs_confirmation(choice, len(ids), confirm_limit):
            return await _confirmation(choice, ids, 428, back=back)
        if len(ids) > int(current_app.config["BULK_JOB_ROWS"]):
            return await _as_job(ids, action, back)
        result = await svc.bulk_update(session, ids, action, user_id=g.user.id)
    except (BulkRefused, svc.BulkError) as error:
        await session.rollback()
        status = getattr(error, "status", 422)
        message = getattr(error, "message", None) or str(error)
        return _refused(message, status, back)
    label = BulkForm.ACTIONS.get(choice.action, choice.action).lower()
    notice = {"text": f"{label.capitalize()}: changed {result.changed:,} of {result.matched:,} "
                      f"product{'' if result.matched == 1 else 's'}."}
    if not is_htmx():
        return done(notice, back)
    response = page_or_fragment(PAGE, REGION, notice=notice,
                                **await table_context(session, table_filters))
    response.set_data(response.get_data(as_text=True) + CLEAR_CONFIRMATION
                      + render_template(FRESH_KEY, target="bulk-key"))
    return response
