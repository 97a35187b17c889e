"""The product table and its rows: show, edit in place, save, single-field edits, create,
soft delete with undo, duplicate.

Every state change sends the row's ``version``; the product service writes only if it is still
current and otherwise returns the current row, which is shown beside the editor's values (409)
so they can choose. Each endpoint answers htmx with the row fragment (``<tr>``) and a plain
browser with a full page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, g, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..catalog.query import load_category_tree
from ..data import products as svc
from ..data.database import get_session
from ..data.models import Product
from ..data.products import ATTRIBUTE_KEYS
from ..web.htmx import is_htmx
from . import bp
from .forms import ProductRowForm, StockForm, as_choices
from .listing import SORTS, STATUSES, STOCKS, EditorFilters, list_products
from .rendering import category_choices, done, fragment, page_or_fragment

ROW_PAGE = "editor/product.html"
ROW = "partials/editor/row.html"
ROW_FORM = "partials/editor/row_form.html"
ROW_CONFLICT = "partials/editor/row_conflict.html"
STALE_FORM = "This form is missing the product's version. Reload the page and try again."


def _version() -> int:
    raw = request.values.get("version", "")
    if not raw.isdigit() or len(raw) > 9:
        abort(400, STALE_FORM)
    return int(raw)


async def _product_or_404(product_id: int) -> Product:
    product = await svc.get_product(await get_session(), product_id)
    if product is None:
        abort(404, "That product does not exist (any more).")
    return product


def _row(product: Product, *, status: int = 200, notice: dict | None = None,
         **context: Any) -> ResponseReturnValue:
    return page_or_fragment(ROW_PAGE, ROW, status=status, notice=notice, product=product,
                            title=product.name, **context)


def _form_for(product: Product) -> ProductRowForm:
    attributes = product.attributes or {}
    return ProductRowForm(formdata=None, data={
        "name": product.name, "price": f"{product.price:.2f}", "stock": str(product.stock),
        "category_id": product.category_id, "is_active": product.is_active,
        **{key: attributes.get(key) or "" for key in ATTRIBUTE_KEYS},
    })


async def _row_form(form: ProductRowForm, *, product: Product | None, version: int | None,
                    status: int = 200) -> ResponseReturnValue:
    choices = await category_choices(await get_session())
    form.category_id.choices = as_choices(
        choices if product else [("", "Choose a category…"), *choices])
    return page_or_fragment(ROW_PAGE, ROW_FORM, status=status, form=form, product=product,
                            version=version, title=product.name if product else "New product")


# -- the table ----------------------------------------------------------------------------------

@bp.get("/")
@editor_required
async def index() -> ResponseReturnValue:
    from flask import redirect

    return redirect(url_for("editor.products"))


@bp.get("/products")
@editor_required
async def products() -> ResponseReturnValue:
    session = await get_session()
    context = await table_context(session, EditorFilters.from_args(request.args))
    return page_or_fragment("editor/products.html", "partials/editor/table.html", **context)


async def table_context(session: Any, filters: EditorFilters) -> dict[str, Any]:
    """Everything the table region and the products page render."""
    tree = await load_category_tree(session)
    return {"filters": filters, "page": await list_products(session, filters, tree),
            "tree": tree, "categories": await category_choices(session), "sorts": SORTS,
            "statuses": STATUSES, "stocks": STOCKS}


# -- one row ------------------------------------------------------------------------------------

@bp.get("/products/<id64:product_id>/row")
@editor_required
async def row(product_id: int) -> ResponseReturnValue:
    """The display row (Cancel and "keep theirs" come back here)."""
    return _row(await _product_or_404(product_id))


@bp.get("/products/<id64:product_id>/edit")
@editor_required
async def edit_row(product_id: int) -> ResponseReturnValue:
    product = await _product_or_404(product_id)
    return await _row_form(_form_for(product), product=product, version=product.version)


@bp.route("/products/<id64:product_id>", methods=["PUT", "POST"])
@editor_required
async def save_row(product_id: int) -> ResponseReturnValue:
    """Save the row form: 200 display row, 422 form with errors, 409 both versions."""
    session = await get_session()
    version = _version()
    product = await _product_or_404(product_id)
    form = ProductRowForm(formdata=request.form)
    if not form.validate():
        return await _row_form(form, product=product, version=version, status=422)
    try:
        result = await svc.update_product(session, product_id, form.product_data(),
                                          expected_version=version, user_id=g.user.id,
                                          source="inline")
    except svc.ProductNotFound:
        abort(404, "That product does not exist (any more).")
    except svc.ProductValidationError as error:
        # Nothing was written. No rollback here: it would expire the product rendered below;
        # the request's teardown ends the transaction.
        form.add_service_errors(error.errors)
        return await _row_form(form, product=product, version=version, status=422)
    if isinstance(result, svc.Conflict):  # nothing written; teardown ends the transaction
        return await _conflict(result.current, form.product_data(),
                               url_for("editor.save_row", product_id=product_id), "put")
    await session.commit()
    notice = {"text": f"Saved “{result.product.name}”." if result.changed
              else f"No changes to “{result.product.name}”."}
    if not is_htmx():
        return done(notice, url_for("editor.products"))
    return _row(result.product)


# -- conflicts ----------------------------------------------------------------------------------

def _display(field: str, value: Any, categories: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if field == "category_id":
        return categories.get(value, f"#{value} (deleted)") if isinstance(value, int) else "—"
    if field == "is_active":
        return "Active" if value else "Inactive"
    if field == "price":
        try:
            return f"{Decimal(str(value)):.2f}"
        except ArithmeticError:
            return str(value)
    return str(value)


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in data.items() if k != "attributes"}
    for key, value in (data.get("attributes") or {}).items():
        flat[key] = value
    return flat


CONFLICT_FIELDS = (("name", "Name"), ("price", "Price"), ("stock", "Stock"),
                   ("category_id", "Category"), ("is_active", "Active"),
                   *((key, key.capitalize()) for key in ATTRIBUTE_KEYS))


async def _conflict(current: Product, mine: dict[str, Any], overwrite_url: str,
                    method: str) -> ResponseReturnValue:
    """409: the editor's values beside the current ones, with "save mine" and "keep theirs"."""
    categories = dict(await category_choices(await get_session()))
    theirs = _flatten({
        "name": current.name, "price": current.price, "stock": current.stock,
        "category_id": current.category_id, "is_active": current.is_active,
        "attributes": {key: (current.attributes or {}).get(key) for key in ATTRIBUTE_KEYS},
    })
    mine_flat = _flatten(mine)
    rows = []
    for field, label in CONFLICT_FIELDS:
        if field not in mine_flat:
            continue
        mine_text = _display(field, mine_flat[field], categories)
        theirs_text = _display(field, theirs.get(field), categories)
        rows.append({"label": label, "mine": mine_text, "theirs": theirs_text,
                     "differs": mine_text != theirs_text})
    hidden = {}
    for field, value in mine_flat.items():
        if field == "is_active" and method == "patch":
            hidden[field] = "1" if value else "0"  # the single-field endpoint's values
        elif field == "is_active":
            if value:
                hidden[field] = "y"  # a checked checkbox; unchecked is simply absent
        elif value is not None:
            hidden[field] = str(value)
    return page_or_fragment(ROW_PAGE, ROW_CONFLICT, status=409, product=current, rows=rows,
                            hidden=hidden, overwrite_url=overwrite_url, method=method,
                            title=current.name)


# -- single-field edits -------------------------------------------------------------------------

@bp.route("/products/<id64:product_id>/active", methods=["PATCH", "POST"])
@editor_required
async def set_active(product_id: int) -> ResponseReturnValue:
    """Toggle shown/hidden from the row (``is_active`` = "1" or "0")."""
    wanted = request.values.get("is_active")
    if wanted not in ("0", "1"):
        abort(400, "Say whether the product should be active.")
    return await _single_field(product_id, {"is_active": wanted == "1"},
                               url_for("editor.set_active", product_id=product_id))


@bp.route("/products/<id64:product_id>/stock", methods=["PATCH", "POST"])
@editor_required
async def set_stock(product_id: int) -> ResponseReturnValue:
    """Change the stock from the row; a bad number is shown next to the stock field (422)."""
    form = StockForm(formdata=request.form)
    if not form.validate():
        _version()
        product = await _product_or_404(product_id)
        return _row(product, status=422, stock_error=form.stock.errors[0],
                    stock_value=form.stock.data)
    return await _single_field(product_id, {"stock": form.stock.data},
                               url_for("editor.set_stock", product_id=product_id))


async def _single_field(product_id: int, data: dict[str, Any], url: str,
                        notice: str | None = None) -> ResponseReturnValue:
    session = await get_session()
    version = _version()
    try:
        result = await svc.update_product(session, product_id, data, expected_version=version,
                                          user_id=g.user.id, source="inline")
    except svc.ProductNotFound:
        abort(404, "That product does not exist (any more).")
    if isinstance(result, svc.Conflict):  # nothing written; teardown ends the transaction
        return await _conflict(result.current, data, url, "patch")
    await session.commit()
    text = (notice or "Saved “{name}”.").format(name=result.product.name)
    if not is_htmx():
        return done({"text": text}, url_for("editor.products"))
    return _row(result.product, notice={"text": text} if notice else None)


# -- soft delete and undo -----------------------------------------------------------------------

@bp.delete("/products/<id64:product_id>")
@editor_required
async def deactivate(product_id: int) -> ResponseReturnValue:
    """Soft delete: the product is hidden from shoppers; the notice offers Undo."""
    session = await get_session()
    version = _version()
    try:
        result = await svc.deactivate_product(session, product_id, expected_version=version,
                                              user_id=g.user.id, source="inline")
    except svc.ProductNotFound:
        abort(404, "That product does not exist (any more).")
    if isinstance(result, svc.Conflict):  # nothing written; teardown ends the transaction
        return await _conflict(result.current, {"is_active": False},
                               url_for("editor.set_active", product_id=product_id), "patch")
    await session.commit()
    product = result.product
    notice = {"text": f"“{product.name}” is now hidden from shoppers.",
              "undo_url": url_for("editor.reactivate", product_id=product.id),
              "undo_version": product.version, "product_id": product.id}
    if not is_htmx():
        return done(notice, url_for("editor.products"))
    return _row(product, notice=notice)


@bp.post("/products/<id64:product_id>/reactivate")
@editor_required
async def reactivate(product_id: int) -> ResponseReturnValue:
    """Undo a soft delete (version-checked like every change)."""
    return await _single_field(product_id, {"is_active": True},
                               url_for("editor.set_active", product_id=product_id),
                               notice="“{name}” is shown to shoppers again.")


# -- duplicate and create -----------------------------------------------------------------------

@bp.post("/products/<id64:product_id>/duplicate")
@editor_required
async def duplicate(product_id: int) -> ResponseReturnValue:
    """Copy the product (inactive, "… (copy)"); htmx inserts the new row after the original."""
    session = await get_session()
    try:
        copy = await svc.duplicate_product(session, product_id, user_id=g.user.id)
    except svc.ProductNotFound:
        abort(404, "That product does not exist (any more).")
    await session.commit()
    notice = {"text": f"Created “{copy.name}” (inactive until you activate it)."}
    if not is_htmx():
        return done(notice, url_for("editor.products"))
    return fragment(ROW, status=201, notice=notice, product=copy, fresh=True)


@bp.get("/products/new")
@editor_required
async def new_row() -> ResponseReturnValue:
    """An empty row form, which htmx puts at the top of the table."""
    form = ProductRowForm(formdata=None)
    return await _row_form(form, product=None, version=None)


@bp.post("/products")
@editor_required
async def create() -> ResponseReturnValue:
    session = await get_session()
    form = ProductRowForm(formdata=request.form)
    if not form.validate():
        return await _row_form(form, product=None, version=None, status=422)
    try:
        product = await svc.create_product(session, form.product_data(), user_id=g.user.id)
    except svc.ProductValidationError as error:
        await session.rollback()
        form.add_service_errors(error.errors)
        return await _row_form(form, product=None, version=None, status=422)
    await session.commit()
    notice = {"text": f"Created “{product.name}”."}
    if not is_htmx():
        return done(notice, url_for("editor.products"))
    return fragment(ROW, status=201, notice=notice, product=product, fresh=True)
