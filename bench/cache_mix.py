"""Section 4: the shared response cache on and off, over a Zipf-like mix of shopper URLs.

A shop's searches are not uniform: the front page, a popular category or "sofa" are asked for
all the time, most combinations rarely. The mix has :data:`DISTINCT` different ``/products``
URLs built from the seed's vocabulary (:mod:`loadtest.vocabulary`: phrases, facets, sorts,
pages), ranked at random, and a sequence of :data:`REQUESTS` drawn from them with probability
proportional to ``1 / rank ** ZIPF_S``; wrk walks that sequence (``search_mix.lua``). Reported:
requests/s and CPU per request with the cache off and on, and the hit ratio of the cache-on
server over the measured rounds (from its ``vitrine_response_cache_total``; one worker, so its
in-process LRU). Every request is an htmx partial, as the search page sends them.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from .runner import Measured, Variant, catalog_note, measure, print_table
from .search_floor import ENV, HX, LUA

DISTINCT = 2_000
REQUESTS = 20_000
ZIPF_S = 1.0
SEED = 14


def zipf_paths(rng: random.Random) -> list[str]:
    """The sequence of request paths (Zipf-like over :data:`DISTINCT` URLs)."""
    from urllib.parse import urlencode

    from loadtest.vocabulary import PER_PAGE, SORTS, facet_choice, phrase

    distinct: dict[str, None] = {"/products": None}
    while len(distinct) < DISTINCT:
        query: list[tuple[str, str]] = []
        if rng.random() < 0.7:
            query.append(("q", phrase(rng)))
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            query.append(facet_choice(rng))
        sort = rng.choice(SORTS)
        if sort and rng.random() < 0.3:
            query.append(("sort", sort))
        if rng.random() < 0.1:
            query.append(("per_page", str(rng.choice(PER_PAGE))))
        if rng.random() < 0.15:
            query.append(("page", str(rng.randint(2, 4))))
        distinct["/products?" + urlencode(query) if query else "/products"] = None
    urls = list(distinct)
    rng.shuffle(urls)
    weights = [1 / rank ** ZIPF_S for rank in range(1, len(urls) + 1)]
    return rng.choices(urls, weights=weights, k=REQUESTS)


def hit_ratio(cached: Measured) -> float | None:
    """Hits / lookups of the cache-on server between its two scrapes."""
    from prometheus_client.parser import text_string_to_metric_families

    def counts(text: str) -> dict[str, float]:
        return {sample.labels["result"]: sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "vitrine_response_cache_total"}

    if len(cached.metrics) != 2:
        return None
    before, after = (counts(text) for text in cached.metrics)
    hits = after.get("hit", 0) - before.get("hit", 0)
    lookups = hits + after.get("miss", 0) - before.get("miss", 0)
    return hits / lookups if lookups else None


def run(*, rounds: int, seconds: int, connections: int, log_dir: Path) -> list[Measured]:
    mix_file = Path(tempfile.mkstemp(prefix="zipf-mix-", suffix=".txt", dir=log_dir)[1])
    mix_file.write_text("\n".join(zipf_paths(random.Random(SEED))) + "\n")
    common = {"path": "/products", "headers": HX, "script": LUA, "script_args": [str(mix_file)]}
    variants = [
        Variant("vitrine, response cache off", "app:create_app()",
                env={**ENV, "VITRINE_RESPONSE_CACHE": "0"}, **common),
        Variant("vitrine, response cache on", "app:create_app()", env=ENV, scrape_metrics=True,
                **common),
    ]
    measured = measure(variants, rounds=rounds, seconds=seconds, connections=connections,
                       log_dir=log_dir)
    print_table(f"4. Response cache over a Zipf-like mix ({connections} connections, 1 worker, "
                f"{DISTINCT:,} URLs, s={ZIPF_S:g}, {catalog_note()})", measured,
                baseline=variants[0].name)
    off, on = measured
    ratio = hit_ratio(on)
    print(f"   cache on / off: {on.rps / off.rps:.2f}x   hit ratio: "
          f"{'n/a' if ratio is None else f'{ratio:.0%}'}")
    print(f"   errors: off {off.errors}, on {on.errors}   (target 0)")
    return measured
