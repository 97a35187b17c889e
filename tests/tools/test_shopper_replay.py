"""The shopper replay (``python -m bench.shopper_replay``) wanders like the load test's shoppers:
the same seed gives the same URLs, a shopper ticks at most three values of a facet, and only a
reload asks for the full page. Run for real, it prints PostgreSQL's CPU and what its backend
keeps."""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs

from bench.shopper_replay import journey

ROOT = Path(__file__).resolve().parents[2]


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


def test_the_replay_reports_postgresql_s_cpu_and_what_its_backend_keeps(sql, database_url):
    """Run for real on the test database (a local server, so its backends' CPU is readable):
    the figures the README quotes are printed, the prepared statements counted on the backend
    the replay used, against the per-connection bound."""
    lighting = sql.category("Lighting", "lighting")
    for name in ("Brass Lamp", "Oak Table", "Linen Throw"):
        sql.product(name, category_id=lighting, attributes={"brand": "Halden"})
    env = {**os.environ, "DATABASE_URL": database_url,
           "VITRINE_DB_PREPARED_STATEMENT_CACHE_SIZE": "7"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.shopper_replay", "--requests", "60", "--shoppers", "5"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    printed = done.stdout
    assert re.search(r"^CPU per request \(this process\): \d+\.\d\d ms$", printed, re.M)
    assert re.search(r"^PostgreSQL CPU per request \(its backends\): \d+\.\d\d ms$", printed,
                     re.M), printed
    kept = re.search(r"^its backend: \d+\.\d MB of memory, (\d+) prepared statements "
                     r"\(kept per connection: 7\)$", printed, re.M)
    assert kept is not None, printed
    assert int(kept.group(1)) >= 1
