"""The shopper's pages: ``/products`` (search, facets, sort, pages) and ``/products/<slug>``.

Each URL answers a browser with the full page and an htmx request with only what changes: the
results as the main swap, plus ``<hx-partial>`` updates for the summary (count, notices), the
sort/page-size bar, the facets and the price hint. The full page includes the very same partial
templates, so the two renderings cannot drift; history restores (htmx re-requesting a URL on
Back) get the full page, like a reload.

The search box and the price inputs are not replaced while the shopper types (that would lose
the caret and keystrokes typed while a request is in flight); they are refreshed only when a
link (a page number, a removed filter, a suggestion) rather than the form made the request.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import joinedload, undefer
from werkzeug.exceptions import NotFound

from ..data.database import get_session
from ..data.models import Product
from ..web import parsing
from ..web.htmx import is_htmx, render_page_or_partial, retarget_to_messages
from .blueprint import bp
from .facet_memo import memo_for_request
from .listing import CatalogPage, load_catalog_page
from .page_context import CatalogLinks, page_context, stock_text
from .params import CatalogParams, ParamError, parse_params
from .tree import load_category_tree

MAX_SLUG = 220


@bp.get("/")
async def home() -> ResponseReturnValue:
    return redirect(url_for("catalog.index"))


@bp.get("/products")
async def index() -> ResponseReturnValue:
    try:
        params = parse_params(request.args)
    except ParamError as error:
        return _invalid(error)
    page = await load_catalog_page(
        await get_session(), params,
        rank_candidates=current_app.config.get("CATALOG_RANK_CANDIDATES"),
        memo=memo_for_request())
    response = render_page_or_partial(
        "catalog/index.html", "partials/catalog/update.html", **_context(page)
    )
    if is_htmx():
        # The canonical URL (empty fields and defaults dropped), not the raw form query.
        response.headers["HX-Push-Url"] = list_url(page.params)
    return response


@bp.get("/products/<slug>")
async def product(slug: str) -> ResponseReturnValue:
    if len(slug) > MAX_SLUG or not parsing.storable(slug):  # no slug holds a NUL: no query
        raise NotFound()
    session = await get_session()
    item = await session.scalar(
        select(Product)
        .where(Product.slug == slug, Product.is_active.is_(True))
        .options(joinedload(Product.category), undefer(Product.shop_images))
    )
    if item is None:
        raise NotFound("That product is not in the catalog (any more).")
    try:
        back = parse_params(request.args)  # the list this product was opened from
    except ParamError:
        back = CatalogParams()
    tree = await load_category_tree(session, read_only=True)
    node = tree.nodes.get(item.category_id)
    crumbs = [*tree.ancestors(node), node] if node is not None else []
    return render_page_or_partial(
        "catalog/product.html", "partials/catalog/product.html",
        product=item, crumbs=crumbs, back_url=list_url(back), back_params=back,
        money=money, stock_text=stock_text, category_url=category_url,
    )


# -- helpers for templates ----------------------------------------------------------------------

def links() -> CatalogLinks:
    """The catalog's links and prices for the current request (Flask's ``url_for``)."""
    return CatalogLinks(url_for, current_app.config["CATALOG_CURRENCY_SYMBOL"])


def list_url(params: CatalogParams) -> str:
    return links().list_url(params)


def category_url(slug: str) -> str:
    return links().category_url(slug)


def money(value: Decimal | None) -> str:
    return links().money(value)


def _context(page: CatalogPage) -> dict[str, Any]:
    return page_context(page, links(), hx_source=request.headers.get("HX-Source", ""))


def _invalid(error: ParamError) -> ResponseReturnValue:
    """400 with the reason and a way out: the same view without the bad parameter."""
    args = request.args.copy()
    args.poplist(error.field)
    args.poplist("page")
    query = urlencode(list(args.items(multi=True)))
    fixed = url_for("catalog.index") + (f"?{query}" if query else "")
    response = render_page_or_partial(
        "catalog/invalid.html", "partials/catalog/invalid.html", status=400,
        message=error.message, fixed_url=fixed, all_url=url_for("catalog.index"),
    )
    if is_htmx():
        # Keep the current results; show the message where messages go, and keep the URL.
        retarget_to_messages(response)
        response.headers["HX-Push-Url"] = "false"
    return response
