"""Section 2: the shopper search partial against a raw floor and Quart, on the same query mix.

* **app**: ``/products`` with ``HX-Request: true`` served by Vitrine (``app:create_app()``),
  with the response cache off (every request runs its SQL), and once more with it on.
* **Quart**: the same endpoint ported to Quart, calling the same query layer and templates
  (:mod:`.search_quart`; it checks its bytes against Vitrine's for every URL).
* **floor**: a minimal ASGI app on the same Hypercorn that does the least work that can give
  the same answer: for each URL it runs *the same SQL statements the catalog runs* with asyncpg
  directly (one pooled connection with the app's session settings, one transaction, as the app
  does), then renders *the same template* (``partials/catalog/update.html``) with Jinja.

The floor gets its SQL from the catalog itself, not from a copy: when a worker starts, it
serves every URL of the mix once through the real app (Flask's test client) and records each
statement and its parameters as SQLAlchemy sends them to asyncpg, and the template and context
the view rendered (Flask's ``template_rendered`` signal). It checks that rendering that context
gives byte for byte the app's response. What the floor therefore leaves out is exactly the app's
own cost per request: Flask's request handling, parameter parsing, SQLAlchemy compiling and ORM
objects, facet and pagination logic, and building the template context. (Rows are fetched and
decoded by asyncpg in both; the floor renders the context captured at startup.)

The mix (:data:`MIX`) is what the search box and facets send: prefixes as a shopper types,
whole words, facet ticks, sorts, price ranges, next pages. wrk cycles through it with
``bench/search_mix.lua``. Both run on the app's database (``DATABASE_URL``, or the embedded dev
database); the targets are for 100,000 products (``make seed PRODUCTS=100000``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .runner import Measured, Variant, catalog_note, measure, print_table

HX = {"HX-Request": "true"}
LUA = str(Path(__file__).with_name("search_mix.lua"))
ENV = {"VITRINE_LOG_LEVEL": "WARNING", "VITRINE_CONFIG": "development",
       "VITRINE_RATELIMIT_ENABLED": "0"}

#: Query strings for ``/products``, in the proportions the page sends them.
MIX: tuple[str, ...] = (
    # typing "brass lamp", "oak table", "linen" (a request per pause), then the whole phrase
    "q=br", "q=brass", "q=brass+la", "q=brass+lamp",
    "q=oa", "q=oak", "q=oak+ta", "q=oak+table",
    "q=lin", "q=linen", "q=linen&page=2",
    "q=leather", "q=nordhavn", "q=ceramic+bowl", "q=wool+throw&sort=price_asc",
    # facets, ticked one at a time
    "", "category=lighting", "category=lighting&brand=Nordhavn",
    "category=lighting&brand=Nordhavn&brand=Halden", "brand=Mossgrove&colour=black",
    "colour=olive&size=M", "category=furniture-chairs&in_stock=1",
    # refine: sort, price, page size, next pages
    "sort=price_asc", "category=kitchen&sort=price_desc", "min_price=20&max_price=60",
    "q=lamp&min_price=10&max_price=100&sort=price_asc", "category=textiles&per_page=48",
    "page=2", "category=kitchen&page=3", "q=chair&in_stock=1",
)


def paths() -> list[str]:
    return ["/products" + (f"?{q}" if q else "") for q in MIX]


# -- the floor ----------------------------------------------------------------------------------

@dataclass
class Captured:
    """What the app did for one URL: its SQL (asyncpg text and arguments), its template and
    context, and the response headers the page needs."""

    statements: list[tuple[str, tuple[Any, ...]]]
    template: Any
    context: dict[str, Any]
    push_url: str
    same_html: bool


def capture(app: Any, urls: list[str]) -> dict[str, Captured]:
    """Serve each URL once through the app, recording its SQL, template and context."""
    from flask import template_rendered
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[tuple[str, tuple[Any, ...]]] = []
    rendered: list[tuple[Any, dict[str, Any]]] = []

    def on_statement(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, tuple(parameters or ())))

    def on_render(sender, template, context, **extra) -> None:
        rendered.append((template, dict(context)))

    event.listen(Engine, "before_cursor_execute", on_statement)
    template_rendered.connect(on_render, app)
    captured: dict[str, Captured] = {}
    try:
        client = app.test_client()
        client.get(urls[0], headers=HX)  # warm-up: the category tree, prepared statements
        for url in urls:
            statements.clear()
            rendered.clear()
            response = client.get(url, headers=HX)
            if response.status_code != 200 or len(rendered) != 1:
                raise RuntimeError(f"{url}: status {response.status_code}, "
                                   f"{len(rendered)} templates rendered")
            template, context = rendered[0]
            captured[url] = Captured(list(statements), template, context,
                                     response.headers.get("HX-Push-Url", ""),
                                     render(app, template, context) == response.get_data())
    finally:
        template_rendered.disconnect(on_render, app)
        event.remove(Engine, "before_cursor_execute", on_statement)
    return captured


def render(app: Any, template: Any, context: dict[str, Any]) -> bytes:
    """Render outside any request, as the floor does: in an app context, with relative URLs
    (Flask's ``url_for`` makes absolute ones when there is no request)."""
    with app.app_context():
        return template.render(context).encode()


def relative_urls(app: Any) -> None:
    """Make ``url_for`` build the same relative URLs it builds inside a request."""
    build = app.url_for

    def url_for(endpoint: str, *, _external: bool | None = None, **values: Any) -> str:
        return build(endpoint, _external=bool(_external), **values)

    app.url_for = url_for
    app.jinja_env.globals["url_for"] = url_for  # templates' url_for is bound when the app is made


def floor_app():
    """The floor as an ASGI app (``hypercorn "bench.search_floor:floor_app()"``)."""
    import asyncpg

    from app import create_app
    from app.data.database import server_settings
    from app.data.urls import libpq_dsn

    app = create_app(LOG_LEVEL="WARNING", RATELIMIT_ENABLED=False, SERVER_NAME="127.0.0.1",
                     RESPONSE_CACHE=False)
    relative_urls(app)
    # Started as a served worker is (its category tree follows the change feed), so the SQL
    # captured is what a served worker sends: no category_tree_version read per request.
    app.run_blocking(app.run_startup_hooks())
    captured = capture(app, paths())
    app.run_blocking(app.run_shutdown_hooks())
    app.close()  # the app's own loop thread and pool are not used from here on
    mismatched = [url for url, c in captured.items() if not c.same_html]
    if mismatched:
        raise RuntimeError(f"the floor's rendering differs from the app's for {mismatched}")
    by_target = {urlsplit(url).query.encode(): c for url, c in captured.items()}
    dsn = libpq_dsn(app.config["DATABASE_URL"])
    pool_size = int(app.config["DB_POOL_SIZE"])
    state: dict[str, Any] = {}

    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    state["pool"] = await asyncpg.create_pool(
                        dsn, min_size=pool_size, max_size=pool_size,
                        server_settings=server_settings(app.config))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await state["pool"].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        entry = by_target.get(scope.get("query_string", b""))
        if scope["path"] == "/healthz":
            await _respond(send, 200, b"ok", [])
            return
        if scope["path"] != "/products" or entry is None:
            await _respond(send, 404, b"not in the mix", [])
            return
        async with state["pool"].acquire() as connection, connection.transaction():
            for sql, args in entry.statements:
                await connection.fetch(sql, *args)
        body = render(app, entry.template, entry.context)
        await _respond(send, 200, body, [(b"hx-push-url", entry.push_url.encode()),
                                         (b"vary", b"HX-Request")])

    return application


async def _respond(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), *headers]})
    await send({"type": "http.response.body", "body": body})


# -- the section --------------------------------------------------------------------------------

def run(*, rounds: int, seconds: int, connections: int, log_dir: Path) -> list[Measured]:
    mix_file = Path(tempfile.mkstemp(prefix="search-mix-", suffix=".txt", dir=log_dir)[1])
    mix_file.write_text("\n".join(paths()) + "\n")
    common = {"path": "/products", "headers": HX, "script": LUA,
              "script_args": [str(mix_file)]}
    uncached = {**ENV, "VITRINE_RESPONSE_CACHE": "0"}
    variants = [
        Variant("raw floor (asyncpg + Jinja, same SQL)", "bench.search_floor:floor_app()",
                env=uncached, **common),
        Variant("vitrine /products htmx partial", "app:create_app()", env=uncached, **common),
        Variant("the same endpoint on Quart", "bench.search_quart:quart_app()", env=uncached,
                **common),
        Variant("vitrine, response cache on", "app:create_app()", env=ENV, **common),
    ]
    catalog = catalog_note()
    measured = measure(variants, rounds=rounds, seconds=seconds, connections=connections,
                       log_dir=log_dir)
    print_table(f"2. Search partial vs raw floor and Quart ({connections} connections, 1 worker,"
                f" {len(MIX)} URLs, {catalog})", measured, baseline=variants[0].name)
    floor, app, quart, cached = measured
    print(f"   vitrine / raw floor: {app.rps / floor.rps:.2f}x   (target >= 0.9x)")
    print(f"   vitrine / Quart:     {app.rps / quart.rps:.2f}x   (target >= 1.2x)")
    print(f"   vitrine p99 / p50:   {app.p99 / app.p50:.2f}    (target <= 4)")
    print(f"   response cache on / off: {cached.rps / app.rps:.2f}x (the 30 URLs repeat: all hits"
          " after the warm-up)")
    print(f"   errors: vitrine {app.errors}, floor {floor.errors}, Quart {quart.errors}, "
          f"cached {cached.errors}   (target 0)")
    return measured


if __name__ == "__main__":  # a quick single run: python -m bench.search_floor
    with tempfile.TemporaryDirectory(prefix="vitrine-bench-") as tmp:
        results = run(rounds=1, seconds=3, connections=32, log_dir=Path(tmp))
    raise SystemExit(1 if sum(m.errors for m in results) else 0)
