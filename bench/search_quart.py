"""Section 2's Quart port: the same ``/products`` htmx partial, served by Quart.

Quart is Flask's API on asyncio, the obvious alternative to Vitrine's own bridge (Flask served as
ASGI with async views awaited on the worker's loop). The port calls *the very same query layer*
(:func:`app.catalog.params.parse_params`, :func:`app.catalog.listing.load_catalog_page`) on an
async engine made with the app's own options (:func:`app.data.database.engine_options`), and
renders *the same template* (``partials/catalog/update.html``) with the same context
(:func:`app.catalog.page_context.page_context`), given Quart's ``url_for`` and ``HX-Source``.
What differs is the framework around them: request parsing, routing, context locals, rendering
machinery.

At start-up it serves every URL of the mix through Quart's test client and compares the bytes
with what Vitrine answers (Flask's test client, response cache off): a difference stops it, so
the ratio in ``make bench`` is always measured on identical responses.

``hypercorn "bench.search_quart:quart_app()"``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from .search_floor import HX, paths

ROOT = Path(__file__).resolve().parent.parent


def quart_app() -> Any:
    from quart import Blueprint, Quart, request, url_for
    from quart.templating import render_template
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from app import create_app
    from app.catalog.listing import load_catalog_page
    from app.catalog.page_context import CatalogLinks, page_context
    from app.catalog.params import ParamError, parse_params
    from app.data.database import engine_options
    from app.data.urls import async_url

    vitrine = create_app(LOG_LEVEL="WARNING", RATELIMIT_ENABLED=False, RESPONSE_CACHE=False)
    config = dict(vitrine.config)
    client = vitrine.test_client()
    expected = {url: client.get(url, headers=HX).get_data() for url in paths()}
    vitrine.close()

    links = CatalogLinks(url_for, config["CATALOG_CURRENCY_SYMBOL"])
    rank_candidates = config.get("CATALOG_RANK_CANDIDATES")
    state: dict[str, Any] = {}

    app = Quart(__name__, template_folder=str(ROOT / "templates"), static_folder=None)
    # Cards with product images build their URLs with this global (app.catalog.image_files).
    app.jinja_env.globals["image_url"] = lambda digest, ext: f"/images/{digest}.{ext}"
    bp = Blueprint("catalog", __name__)

    @bp.get("/products")
    async def index() -> Any:
        try:
            params = parse_params(request.args)
        except ParamError as error:
            return error.message, 400
        async with state["sessions"]() as session:
            page = await load_catalog_page(session, params, rank_candidates=rank_candidates)
        context = page_context(page, links, hx_source=request.headers.get("HX-Source", ""))
        body = await render_template("partials/catalog/update.html", **context)
        return body, 200, {"HX-Push-Url": links.list_url(page.params), "Vary": "HX-Request"}

    @bp.get("/products/suggest")
    async def suggest() -> Any:  # only so that url_for("catalog.suggest") builds
        return "not part of the port", 404

    @bp.get("/products/<slug>")
    async def product(slug: str) -> Any:  # only so that url_for("catalog.product") builds
        return "not part of the port", 404

    app.register_blueprint(bp)
    live = Blueprint("live", __name__)

    @live.get("/live/catalog")
    async def catalog() -> Any:  # only so that url_for("live.catalog") builds (the cards'
        return "not part of the port", 404  # price stream, issue 15)

    app.register_blueprint(live)

    @app.get("/healthz")
    async def healthz() -> Any:
        return "ok"

    @app.before_serving
    async def start() -> None:
        engine = create_async_engine(async_url(config["DATABASE_URL"]), **engine_options(config))
        state["engine"] = engine
        state["sessions"] = async_sessionmaker(engine, expire_on_commit=False)
        app.config["PROPAGATE_EXCEPTIONS"] = True  # an error in the port shows itself here
        test = app.test_client()
        different = []
        for url, body in expected.items():
            response = await test.get(url, headers=HX)
            if await response.get_data() != body:
                different.append(url)
        if different:
            first = different[0]
            response = await test.get(first, headers=HX)
            diff = "\n".join(difflib.unified_diff(
                expected[first].decode().splitlines(), (await response.get_data(as_text=True))
                .splitlines(), "vitrine", "quart", n=1, lineterm=""))
            raise RuntimeError(f"the Quart port answers differently from Vitrine for "
                               f"{different}; the first:\n{diff[-3000:]}")

    @app.after_serving
    async def stop() -> None:
        await state["engine"].dispose()

    return app
