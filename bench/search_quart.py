"""Section 2's Quart port: the same ``/products`` htmx partial, served by Quart.

Quart is Flask's API on asyncio, the obvious alternative to Vitrine's own bridge (Flask served as
ASGI with async views awaited on the worker's loop). The port calls *the very same query layer*
(:func:`app.catalog.params.parse_params`, :func:`app.catalog.listing.load_catalog_page`) on an
async engine made with the app's own options (:func:`app.data.database.engine_options`), and
renders *the same template* (``partials/catalog/update.html``) with a context built as
:mod:`app.catalog.views` builds it, only with Quart's ``request`` and ``url_for``. What differs is
the framework around them: request parsing, routing, context locals, rendering machinery.

At start-up it serves every URL of the mix through Quart's test client and compares the bytes
with what Vitrine answers (Flask's test client, response cache off): a difference stops it, so
the ratio in ``make bench`` is always measured on identical responses. If the catalog view's
context changes, :func:`_context` must follow it (the check says so).

``hypercorn "bench.search_quart:quart_app()"``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from .search_floor import HX, paths

ROOT = Path(__file__).resolve().parent.parent


def quart_app() -> Any:
    from quart import Blueprint, Quart, request, url_for
    from quart.templating import render_template
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from app import create_app
    from app.catalog import listing
    from app.catalog.listing import CatalogPage, load_catalog_page
    from app.catalog.params import (
        MULTI,
        PER_PAGE_CHOICES,
        CatalogParams,
        ParamError,
        parse_params,
        sort_choices,
    )
    from app.catalog.views import (
        FACET_LABELS,
        FORM_SOURCE,
        count_text,
        input_id,
        stock_text,
    )
    from app.data.database import engine_options
    from app.data.urls import async_url

    vitrine = create_app(LOG_LEVEL="WARNING", RATELIMIT_ENABLED=False, RESPONSE_CACHE=False)
    config = dict(vitrine.config)
    client = vitrine.test_client()
    expected = {url: client.get(url, headers=HX).get_data() for url in paths()}
    vitrine.close()

    symbol = config["CATALOG_CURRENCY_SYMBOL"]
    rank_candidates = config.get("CATALOG_RANK_CANDIDATES")
    state: dict[str, Any] = {}

    def money(value: Decimal | None) -> str:
        return "" if value is None else f"{symbol}{value:,.2f}"

    def list_url(params: CatalogParams) -> str:
        query = params.query_string()
        return url_for("catalog.index") + (f"?{query}" if query else "")

    def product_urls(params: CatalogParams) -> Any:
        query = params.query_string()
        suffix = f"?{query}" if query else ""

        def url(item: Any, item_params: CatalogParams) -> str:
            item_query = item_params.query_string()
            item_suffix = suffix if item_params is params else (
                f"?{item_query}" if item_query else "")
            return url_for("catalog.product", slug=item.slug) + item_suffix

        return url

    def chips(page: CatalogPage) -> list[tuple[str, str]]:
        params = page.params
        found: list[tuple[str, str]] = []
        names = {node.slug: node.name for node in page.tree.nodes.values()}
        for name in MULTI:
            for value in params.values(name):
                label = names.get(value, value) if name == "category" else value
                found.append((f"{FACET_LABELS[name]}: {label}",
                              list_url(params.without(name, value))))
        if params.min_price is not None:
            found.append((f"From {money(params.min_price)}", list_url(params.without("min_price"))))
        if params.max_price is not None:
            found.append((f"Up to {money(params.max_price)}",
                          list_url(params.without("max_price"))))
        if params.in_stock:
            found.append(("In stock only", list_url(params.without("in_stock"))))
        return found

    def suggestion_url(page: CatalogPage) -> str | None:
        suggestion = page.suggestion
        if suggestion is None:
            return None
        if suggestion.keep_filters:
            return list_url(page.params.with_changes(q=suggestion.q))
        return list_url(CatalogParams(q=suggestion.q))

    def context(page: CatalogPage) -> dict[str, Any]:
        params = page.params
        pagination = page.pagination
        title = f"“{params.q}” · Products" if params.q else "Products"
        if pagination.page > 1:
            title += f" · page {pagination.page}"
        return {
            "catalog": page, "params": params, "facets": page.facets, "pagination": pagination,
            "page_title": f"{title} · Vitrine", "canonical_url": list_url(params),
            "chips": chips(page), "facet_labels": FACET_LABELS,
            "sort_choices": sort_choices(params),
            "selected_sort": params.sort.value if params.sort else "",
            "per_page_choices": PER_PAGE_CHOICES, "max_window": listing.MAX_RESULT_WINDOW,
            "refresh_fields": request.headers.get("HX-Source", "") != FORM_SOURCE,
            "list_url": list_url, "product_url": product_urls(params),
            "page_url": lambda number: list_url(params.with_changes(page=number)),
            "clear_url": list_url(params.cleared()), "all_url": url_for("catalog.index"),
            "suggestion_url": suggestion_url(page), "money": money, "count_text": count_text,
            "stock_text": stock_text, "input_id": input_id,
        }

    app = Quart(__name__, template_folder=str(ROOT / "templates"), static_folder=None)
    bp = Blueprint("catalog", __name__)

    @bp.get("/products")
    async def index() -> Any:
        try:
            params = parse_params(request.args)
        except ParamError as error:
            return error.message, 400
        async with state["sessions"]() as session:
            page = await load_catalog_page(session, params, rank_candidates=rank_candidates)
        body = await render_template("partials/catalog/update.html", **context(page))
        return body, 200, {"HX-Push-Url": list_url(page.params), "Vary": "HX-Request"}

    @bp.get("/products/<slug>")
    async def product(slug: str) -> Any:  # only so that url_for("catalog.product") builds
        return "not part of the port", 404

    app.register_blueprint(bp)

    @app.get("/healthz")
    async def healthz() -> Any:
        return "ok"

    @app.before_serving
    async def start() -> None:
        engine = create_async_engine(async_url(config["DATABASE_URL"]), **engine_options(config))
        state["engine"] = engine
        state["sessions"] = async_sessionmaker(engine, expire_on_commit=False)
        test = app.test_client()
        different = []
        for url, body in expected.items():
            response = await test.get(url, headers=HX)
            if await response.get_data() != body:
                different.append(url)
        if different:
            raise RuntimeError(f"the Quart port answers differently from Vitrine for {different}")

    @app.after_serving
    async def stop() -> None:
        await state["engine"].dispose()

    return app
