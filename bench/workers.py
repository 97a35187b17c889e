"""Section 3: one Hypercorn worker against two, on the catalog's htmx results partial.

Uses the app's configured database (``DATABASE_URL``, or the embedded dev database; the targets
are for 100,000 products: ``make seed PRODUCTS=100000``)."""

from __future__ import annotations

from pathlib import Path

from .runner import Measured, Variant, catalog_note, measure, print_table

PATH = "/products"
HEADERS = {"HX-Request": "true"}
ENV = {"VITRINE_LOG_LEVEL": "WARNING", "VITRINE_CONFIG": "development",
       "VITRINE_RATELIMIT_ENABLED": "0"}  # wrk is one address: the search limit would 429 it


def run(*, rounds: int, seconds: int, connections: int, log_dir: Path) -> list[Measured]:
    variants = [
        Variant(f"vitrine {PATH} partial, {n} worker{'s' if n > 1 else ''}", "app:create_app()",
                path=PATH, workers=n, env=ENV, headers=HEADERS)
        for n in (1, 2)
    ]
    catalog = catalog_note()
    measured = measure(variants, rounds=rounds, seconds=seconds, connections=connections,
                       log_dir=log_dir)
    print_table(f"3. Workers ({connections} connections, {catalog})", measured,
                baseline=variants[0].name)
    return measured
