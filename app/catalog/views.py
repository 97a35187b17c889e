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

import hashlib
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from ..data.database import get_session
from ..data.models import Product
from ..web import parsing
from ..web.htmx import is_htmx, render_page_or_partial, retarget_to_messages
from . import listing
from .blueprint import bp
from .facets import round_significant
from .listing import CatalogPage, load_catalog_page
from .page_query import Total
from .params import (
    MULTI,
    PER_PAGE_CHOICES,
    CatalogParams,
    ParamError,
    parse_params,
    sort_choices,
)
from .refine import Refinement
from .tree import load_category_tree

FORM_SOURCE = "form#catalog-form"
FACET_LABELS = {"category": "Category", "brand": "Brand", "colour": "Colour", "size": "Size"}
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
        rank_candidates=current_app.config.get("CATALOG_RANK_CANDIDATES"))
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
        .options(joinedload(Product.category))
    )
    if item is None:
        raise NotFound("That product is not in the catalog (any more).")
    try:
        back = parse_params(request.args)  # the list this product was opened from
    except ParamError:
        back = CatalogParams()
    tree = await load_category_tree(session)
    node = tree.nodes.get(item.category_id)
    crumbs = [*tree.ancestors(node), node] if node is not None else []
    return render_page_or_partial(
        "catalog/product.html", "partials/catalog/product.html",
        product=item, crumbs=crumbs, back_url=list_url(back), back_params=back,
        money=money, stock_text=stock_text, category_url=category_url,
    )


# -- helpers for templates ----------------------------------------------------------------------

def list_url(params: CatalogParams) -> str:
    query = params.query_string()
    return url_for("catalog.index") + (f"?{query}" if query else "")


def product_url(item: Product, params: CatalogParams) -> str:
    query = params.query_string()
    return url_for("catalog.product", slug=item.slug) + (f"?{query}" if query else "")


def category_url(slug: str) -> str:
    return list_url(CatalogParams(categories=(slug,)))


def money(value: Decimal | None) -> str:
    if value is None:
        return ""
    symbol = current_app.config["CATALOG_CURRENCY_SYMBOL"]
    return f"{symbol}{value:,.2f}"


def count_text(total: Total | int, approximate: bool = False) -> str:
    """"1,234", or "about 75,000" for an estimate."""
    if isinstance(total, Total):
        value, approximate = total.value, not total.exact
    else:
        value = total
    if approximate:
        return f"about {round_significant(value):,}"
    return f"{value:,}"


def stock_text(item: Product) -> tuple[str, str]:
    """(label, css modifier) of a product's stock state."""
    if item.stock <= 0:
        return "Out of stock", "out"
    if item.stock <= 5:
        return f"Only {item.stock} left", "low"
    return "In stock", "in"


def input_id(facet: str, value: str) -> str:
    """A stable, valid id for a facet checkbox (htmx restores focus by id after a swap)."""
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:40]
    digest = hashlib.sha1(value.encode(), usedforsecurity=False).hexdigest()[:6]
    return f"f-{facet}-{slug}-{digest}"


def _chips(page: CatalogPage) -> list[tuple[str, str]]:
    """(label, URL without it) for every active filter."""
    params = page.params
    chips: list[tuple[str, str]] = []
    names = {node.slug: node.name for node in page.tree.nodes.values()}
    for name in MULTI:
        for value in params.values(name):
            label = names.get(value, value) if name == "category" else value
            chips.append((f"{FACET_LABELS[name]}: {label}", list_url(params.without(name, value))))
    if params.min_price is not None:
        chips.append((f"From {money(params.min_price)}", list_url(params.without("min_price"))))
    if params.max_price is not None:
        chips.append((f"Up to {money(params.max_price)}", list_url(params.without("max_price"))))
    if params.in_stock:
        chips.append(("In stock only", list_url(params.without("in_stock"))))
    return chips


def _context(page: CatalogPage) -> dict[str, Any]:
    params = page.params
    pagination = page.pagination
    title = f"“{params.q}” · Products" if params.q else "Products"
    if pagination.page > 1:
        title += f" · page {pagination.page}"
    return {
        "catalog": page,
        "params": params,
        "facets": page.facets,
        "pagination": pagination,
        "page_title": f"{title} · Vitrine",
        "canonical_url": list_url(params),
        "chips": _chips(page),
        "facet_labels": FACET_LABELS,
        "sort_choices": sort_choices(params),
        "selected_sort": params.sort.value if params.sort else "",
        "per_page_choices": PER_PAGE_CHOICES,
        "max_window": listing.MAX_RESULT_WINDOW,
        "refresh_fields": request.headers.get("HX-Source", "") != FORM_SOURCE,
        "list_url": list_url,
        "product_url": _product_urls(params),
        "page_url": lambda number: list_url(params.with_changes(page=number)),
        "clear_url": list_url(params.cleared()),
        "all_url": url_for("catalog.index"),
        "suggestion_url": _suggestion_url(page),
        "refinement_url": lambda refinement: _refinement_url(params, refinement),
        "browse_url": category_url,
        "money": money,
        "count_text": count_text,
        "stock_text": stock_text,
        "input_id": input_id,
    }


def _product_urls(params: CatalogParams) -> Any:
    """:func:`product_url` with this page's query string built once, not once per product."""
    query = params.query_string()
    suffix = f"?{query}" if query else ""

    def url(item: Product, item_params: CatalogParams) -> str:
        if item_params is not params:
            return product_url(item, item_params)
        return url_for("catalog.product", slug=item.slug) + suffix

    return url


def _suggestion_url(page: CatalogPage) -> str | None:
    suggestion = page.suggestion
    if suggestion is None:
        return None
    if suggestion.keep_filters:
        return list_url(page.params.with_changes(q=suggestion.q))
    return list_url(CatalogParams(q=suggestion.q))


def _refinement_url(params: CatalogParams, refinement: Refinement) -> str:
    """The same search with the refinement's facet value ticked."""
    if refinement.facet == "category":
        return list_url(params.with_changes(categories=(*params.categories, refinement.value)))
    return list_url(params.with_changes(brands=(*params.brands, refinement.value)))


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
