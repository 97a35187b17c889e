"""The product table and its rows: show, edit in place, save, single-field edits, create,
soft delete with undo, duplicate.

Every state change sends the row's ``version`` (the version the editor's form or row was opened
at). The product service merges field by field (:mod:`app.data.merge`): changes to fields
nobody else touched since are saved into a new version and the notice names whose changes were
kept; only fields both changed to different values come back as a 409 that shows just those
fields, with a choice per field (:mod:`.conflicts`). Every state change also carries a one-time
command key and is applied at most once (:func:`app.web.commands.once`: a double-click or a
retry replays the first response; the decorator commits, the views do not). Each endpoint
answers htmx with the row fragment (``<tr>``) and a plain browser with a full page. A product
deleted meanwhile is a 404 (:func:`.rendering.product_gone`).

Where the editor is: the outcome of an htmx row action is shown in the row itself (``row_notice``,
announced with ``role="status"``; a delete's Undo sits there), and ``focus`` tells editor.js which
control gets the focus after the swap (the Edit link after a save or cancel, Undo after a delete).
Without JavaScript every row action is a plain form whose answer redirects back to the filtered
list the editor came from (:func:`.rendering.back_to_list`).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..data import products as svc
from ..data.categories import category_choices
from ..data.database import get_session
from ..data.lookups import get_or_404
from ..data.models import Product
from ..jobs.status import user_jobs
from ..web import parsing
from ..web.commands import once
from ..web.htmx import is_htmx
from .blueprint import bp
from .conflicts import ROW_PAGE, conflict_response, saved_notice
from .forms import ProductRowForm, StockForm, as_choices
from .jobs import job_context
from .listing import EditorFilters
from .presence import editors_of, end_after_save
from .rendering import back_to_list, done, fragment, page_or_fragment
from .table import PAGE, REGION, table_context

ROW = "partials/editor/row.html"
ROW_FORM = "partials/editor/row_form.html"
STALE_FORM = "This form is missing the product's version. Reload the page and try again."


def _version() -> int:
    try:
        return parsing.version(request.values.get("version"), STALE_FORM)
    except parsing.BadInput as error:
        abort(400, error.message)


async def _product_or_404(product_id: int) -> Product:
    return await get_or_404(await get_session(), Product, product_id, load=svc.WITH_CATEGORY,
                            fresh=True)


async def _row(product: Product, *, status: int = 200,
               row_notice: dict[str, Any] | None = None, focus: str | None = None,
               **context: Any) -> ResponseReturnValue:
    """The display row; ``row_notice`` is shown in it, ``focus`` names the control editor.js
    focuses after the swap (``edit``, ``undo``). It shows who else is editing the product."""
    presence = await editors_of(await get_session(), [product.id])
    return page_or_fragment(ROW_PAGE, ROW, status=status, product=product, title=product.name,
                            row_notice=row_notice, focus=focus, here=back_to_list(),
                            presence=presence, **context)


async def render_row(product: Product, *, status: int = 200,
                     row_notice: dict[str, Any] | None = None,
                     focus: str | None = None) -> Response:
    """The display row as a response, for other editor modules (the row's image upload)."""
    return make_response(await _row(product, status=status, row_notice=row_notice,
                                    focus=focus))


def _form_for(product: Product) -> ProductRowForm:
    attributes = product.attributes or {}
    return ProductRowForm(formdata=None, data={
        "name": product.name, "price": f"{product.price:.2f}", "stock": str(product.stock),
        "category_id": product.category_id, "is_active": product.is_active,
        **{key: attributes.get(key) or "" for key in svc.ATTRIBUTE_KEYS},
    })


async def row_form_response(form: ProductRowForm, *, product: Product | None,
                            version: int | None, status: int = 200,
                            notice: dict[str, Any] | None = None) -> ResponseReturnValue:
    """The row form (a new product's when ``product`` is None) with ``form``'s values."""
    session = await get_session()
    choices = await category_choices(session)
    form.category_id.choices = as_choices(
        choices if product else [("", "Choose a category…"), *choices])
    presence = await editors_of(session, [product.id]) if product else {}
    return page_or_fragment(ROW_PAGE, ROW_FORM, status=status, notice=notice, form=form,
                            product=product, presence=presence,
                            version=version, title=product.name if product else "New product",
                            here=back_to_list())


# -- the table ----------------------------------------------------------------------------------

@bp.get("/")
@editor_required
async def index() -> ResponseReturnValue:
    return redirect(url_for("editor.products"))


@bp.get("/products")
@editor_required
async def products() -> ResponseReturnValue:
    session = await get_session()
    context = await table_context(session, EditorFilters.from_args(request.args))
    if not is_htmx():  # the page shows the editor's jobs; the table region alone does not
        context["jobs"] = [job_context(job) for job in await user_jobs(session, g.user.id)]
    return page_or_fragment(PAGE, REGION, **context)


# -- one row ------------------------------------------------------------------------------------

@bp.get("/products/<id64:product_id>/row")
@editor_required
async def row(product_id: int) -> ResponseReturnValue:
    """The display row (Cancel and "keep theirs" come back here, to the row's Edit link).
    ``live=1``: a colleague changed it and the editor stream redraws it in place; the focus
    stays wherever the editor has it."""
    live = request.args.get("live") == "1"
    return await _row(await _product_or_404(product_id), focus=None if live else "edit",
                      live=live)


@bp.get("/products/<id64:product_id>/edit")
@editor_required
async def edit_row(product_id: int) -> ResponseReturnValue:
    product = await _product_or_404(product_id)
    return await row_form_response(_form_for(product), product=product, version=product.version)


@bp.route("/products/<id64:product_id>", methods=["PUT", "POST"])
@editor_required
@once
async def save_row(product_id: int) -> ResponseReturnValue:
    """Save the row form: 200 display row (merged with others' changes to other fields), 422
    form with errors, 409 the fields both changed."""
    session = await get_session()
    version = _version()
    product = await _product_or_404(product_id)
    form = ProductRowForm(formdata=request.form)
    changes = form.validate_update()
    if changes is None:
        return await row_form_response(form, product=product, version=version, status=422)
    try:
        result = await svc.update_product(session, product_id, changes,
                                          expected_version=version, user_id=g.user.id,
                                          source="inline", merge=True)
    except svc.ProductValidationError as error:
        # Nothing was written. No rollback here: it would expire the product rendered below;
        # the command's wrapper rolls back after rendering.
        form.add_product_errors(error.errors)
        return await row_form_response(form, product=product, version=version, status=422)
    if isinstance(result, svc.Conflict):  # nothing written; the wrapper rolls back
        return await conflict_response(result,
                                       url_for("editor.save_row", product_id=product_id), "put")
    await end_after_save(session, product_id)  # colleagues stop seeing "… is editing"
    notice = saved_notice(result)
    if not is_htmx():
        return done(notice, back_to_list())
    return await _row(result.product, row_notice=notice, focus="edit")


# -- single-field edits -------------------------------------------------------------------------

@bp.route("/products/<id64:product_id>/active", methods=["PATCH", "POST"])
@editor_required
@once
async def set_active(product_id: int) -> ResponseReturnValue:
    """Toggle shown/hidden from the row (``is_active`` = "1" or "0")."""
    wanted = request.values.get("is_active")
    if wanted not in ("0", "1"):
        abort(400, "Say whether the product should be active.")
    return await _single_field(product_id, svc.ProductUpdate(is_active=wanted == "1"),
                               url_for("editor.set_active", product_id=product_id))


@bp.route("/products/<id64:product_id>/stock", methods=["PATCH", "POST"])
@editor_required
@once
async def set_stock(product_id: int) -> ResponseReturnValue:
    """Change the stock from the row; a bad number is shown next to the stock field (422)."""
    form = StockForm(formdata=request.form)
    changes = form.validate_update()
    if changes is None:
        _version()
        product = await _product_or_404(product_id)
        return await _row(product, status=422, stock_error=form.stock.errors[0],
                    stock_value=form.stock.data)
    return await _single_field(product_id, changes,
                               url_for("editor.set_stock", product_id=product_id))


async def _single_field(product_id: int, changes: svc.ProductUpdate, url: str,
                        notice: str | None = None,
                        focus: str | None = None) -> ResponseReturnValue:
    session = await get_session()
    version = _version()
    result = await svc.update_product(session, product_id, changes, expected_version=version,
                                      user_id=g.user.id, source="inline", merge=True)
    if isinstance(result, svc.Conflict):  # nothing written; the wrapper rolls back
        return await conflict_response(result, url, "patch")
    saved = saved_notice(result, notice)
    if not is_htmx():
        return done(saved, back_to_list())
    # In-place edits keep the focus where the editor put it (editor.js); an undo goes to Edit.
    return await _row(result.product, row_notice=saved, focus=focus)


# -- soft delete and undo -----------------------------------------------------------------------

@bp.delete("/products/<id64:product_id>")
@bp.post("/products/<id64:product_id>/delete")
@editor_required
@once
async def deactivate(product_id: int) -> ResponseReturnValue:
    """Soft delete: the product is hidden from shoppers; the notice in the row offers Undo
    (``POST .../delete`` is the same, for forms: the row's and a browser without JavaScript)."""
    session = await get_session()
    version = _version()
    result = await svc.deactivate_product(session, product_id, expected_version=version,
                                          user_id=g.user.id, source="inline", merge=True)
    if isinstance(result, svc.Conflict):  # nothing written; the wrapper rolls back
        return await conflict_response(
            result, url_for("editor.set_active", product_id=product_id), "patch")
    product = result.product
    notice = {"text": f"“{product.name}” is now hidden from shoppers.",
              "undo_url": url_for("editor.reactivate", product_id=product.id),
              "undo_version": product.version, "product_id": product.id}
    if not is_htmx():
        return done(notice, back_to_list())
    return await _row(product, row_notice=notice, focus="undo")


@bp.post("/products/<id64:product_id>/reactivate")
@editor_required
@once
async def reactivate(product_id: int) -> ResponseReturnValue:
    """Undo a soft delete (version-checked like every change)."""
    return await _single_field(product_id, svc.ProductUpdate(is_active=True),
                               url_for("editor.set_active", product_id=product_id),
                               notice="“{name}” is shown to shoppers again.", focus="edit")


# -- duplicate and create -----------------------------------------------------------------------

@bp.post("/products/<id64:product_id>/duplicate")
@editor_required
@once
async def duplicate(product_id: int) -> ResponseReturnValue:
    """Copy the product (inactive, "… (copy)"); htmx inserts the new row after the original."""
    session = await get_session()
    copy = await svc.duplicate_product(session, product_id, user_id=g.user.id)
    notice = {"text": f"Created “{copy.name}” (inactive until you activate it)."}
    if not is_htmx():
        return done(notice, back_to_list())
    return fragment(ROW, status=201, row_notice=notice, focus="edit", product=copy, fresh=True,
                    here=back_to_list())


@bp.get("/products/new")
@editor_required
async def new_row() -> ResponseReturnValue:
    """An empty row form, which htmx puts at the top of the table."""
    form = ProductRowForm(formdata=None)
    return await row_form_response(form, product=None, version=None)


@bp.post("/products")
@editor_required
@once
async def create() -> ResponseReturnValue:
    session = await get_session()
    form = ProductRowForm(formdata=request.form)
    new_product = form.validate_create()
    if new_product is None:
        return await row_form_response(form, product=None, version=None, status=422)
    try:
        product = await svc.create_product(session, new_product, user_id=g.user.id)
    except svc.ProductValidationError as error:
        await session.rollback()
        form.add_product_errors(error.errors)
        return await row_form_response(form, product=None, version=None, status=422)
    notice = {"text": f"Created “{product.name}”."}
    if not is_htmx():
        return done(notice, back_to_list())
    return fragment(ROW, status=201, row_notice=notice, focus="edit", product=product,
                    fresh=True, here=back_to_list())
