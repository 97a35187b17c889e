"""The shopper replay (``python -m bench.shopper_replay``) wanders like the load test's shoppers:
the same seed gives the same URLs, a shopper ticks at most three values of a facet, and only a
reload asks for the full page."""

from __future__ import annotations

import itertools
import random
from urllib.parse import parse_qs

from bench.shopper_replay import journey


def first(count: int, seed: int) -> list[tuple[str, bool]]:
    return list(itertools.islice(journey(random.Random(seed), 20), count))


def test_the_same_seed_replays_the_same_requests():
    assert first(200, seed=3) == first(200, seed=3)
    assert first(200, seed=3) != first(200, seed=4)


def test_the_requests_look_like_the_load_tests_shoppers():
    requests = first(2000, seed=7)
    queries = [parse_qs(query) for query, _htmx in requests]
    assert all(len(query.get(facet, [])) <= 3 for query in queries
               for facet in ("brand", "colour", "size"))
    assert any("q" in query for query in queries) and any("brand" in query for query in queries)
    assert any("sort" in query for query in queries) and any("page" in query for query in queries)
    full_pages = sum(1 for _query, htmx in requests if not htmx)
    assert 0 < full_pages < len(requests) / 8  # reloads: weight 1 of 16
