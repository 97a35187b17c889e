"""``python -m bench.relevance`` (``make relevance``): how good the first page of a search is.

The judged query set (``bench/relevance_queries.json``) lists queries a shopper types -
categories, plurals, two-word queries, brands, attributes, synonyms, typos - each with rules
that grade a product (2 = what was asked for, 1 = a fair answer, else 0) over the seeded demo
catalog. For every query the app's own ``/products`` page is asked (Flask's test client, the
whole search: synonyms, fallbacks and all) and its first 10 products are graded:

* **precision@10**: the share of the 10 places holding a product graded 1 or 2 (an empty or
  short page loses the missing places);
* **nDCG@10**: graded gain ``2^g - 1`` discounted by ``log2(rank + 1)``, divided by the best
  possible order of the catalog's own products (so 1.0 is "the best 10 the catalog has").

It runs against ``DATABASE_URL`` (or the embedded dev database), migrating it and seeding the
demo catalog when it holds fewer than ``--products`` products. It never fails on the scores;
the test suite runs the same judging with a floor (``tests/catalog/test_relevance.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUERIES = Path(__file__).with_name("relevance_queries.json")
ROOT = Path(__file__).resolve().parent.parent
CUTOFF = 10
_SLUG = re.compile(r'href="/products/([^"?]+)')
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Judged:
    """A product as the rules see it."""

    slug: str
    name_words: tuple[str, ...]
    categories: frozenset[str]     # the sub-category's and the department's names, lower case
    attributes: Mapping[str, str]  # lower case


@dataclass(frozen=True)
class Score:
    q: str
    kind: str
    precision: float
    ndcg: float
    found: int


def load_queries(path: Path = QUERIES) -> list[dict[str, Any]]:
    queries: list[dict[str, Any]] = json.loads(path.read_text())["queries"]
    return queries


def judged(slug: str, name: str, category: str, department: str | None,
           attributes: Mapping[str, Any]) -> Judged:
    names = {category.lower()} | ({department.lower()} if department else set())
    return Judged(slug, tuple(w.lower() for w in _WORD.findall(name)), frozenset(names),
                  {k: str(v).lower() for k, v in attributes.items()})


def _meets(product: Judged, rule: Mapping[str, Any]) -> bool:
    for key, wanted in rule.items():
        if key == "grade":
            continue
        if key == "category":
            if wanted.lower() not in product.categories:
                return False
        elif key == "name":
            if not all(any(w.startswith(part.lower()) for w in product.name_words)
                       for part in wanted):
                return False
        elif product.attributes.get(key) != str(wanted).lower():
            return False
    return True


def grade(product: Judged, rules: Iterable[Mapping[str, Any]]) -> int:
    return max((int(rule["grade"]) for rule in rules if _meets(product, rule)), default=0)


def score(query: Mapping[str, Any], shown: list[str], catalog: Mapping[str, Judged]) -> Score:
    """precision@10 and nDCG@10 of the slugs ``shown`` (in order) for one judged query."""
    rules = query["rules"]
    gains = [grade(catalog[slug], rules) if slug in catalog else 0 for slug in shown[:CUTOFF]]
    best = sorted((grade(p, rules) for p in catalog.values()), reverse=True)[:CUTOFF]

    def dcg(grades: list[int]) -> float:
        return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(grades))

    ideal = dcg(best)
    return Score(query["q"], query.get("kind", ""), sum(1 for g in gains if g) / CUTOFF,
                 dcg(gains) / ideal if ideal else 0.0, len(shown))


def shown_slugs(html: str) -> list[str]:
    """Product slugs of a result page, in order (each card links its product once)."""
    return list(dict.fromkeys(_SLUG.findall(html)))


def run(get: Callable[[str], str], catalog: Mapping[str, Judged],
        queries: list[dict[str, Any]] | None = None) -> list[Score]:
    """Score every query; ``get(q)`` returns the HTML of the ``/products`` results for ``q``."""
    return [score(query, shown_slugs(get(query["q"])), catalog)
            for query in (queries or load_queries())]


def overall(scores: list[Score]) -> tuple[float, float]:
    return (sum(s.precision for s in scores) / len(scores),
            sum(s.ndcg for s in scores) / len(scores))


def report(scores: list[Score]) -> str:
    lines = [f"{'query':<22} {'kind':<10} {'found':>6} {'P@10':>6} {'nDCG@10':>8}"]
    for s in scores:
        lines.append(f"{s.q:<22} {s.kind:<10} {s.found:>6} {s.precision:>6.2f} {s.ndcg:>8.3f}")
    precision, ndcg = overall(scores)
    lines.append(f"{'overall':<22} {len(scores):>10} queries {precision:>6.3f} {ndcg:>8.3f}")
    return "\n".join(lines)


def _catalog(dsn: str) -> dict[str, Judged]:
    import psycopg

    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT p.slug, p.name, c.name, d.name, p.attributes FROM products AS p"
            " JOIN categories AS c ON c.id = p.category_id"
            " LEFT JOIN categories AS d ON d.id = c.parent_id WHERE p.is_active").fetchall()
    return {r[0]: judged(*r) for r in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000,
                        help="seed the demo catalog when it holds fewer (default 20,000)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    env = {**os.environ, "VITRINE_CONFIG": "development", "VITRINE_LOG_LEVEL": "WARNING",
           "VITRINE_RATELIMIT_ENABLED": "0"}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    os.environ.update(env)
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, check=True, env=env)

    from app import create_app
    from app.data.urls import libpq_dsn

    app = create_app("development")
    dsn = libpq_dsn(app.config["DATABASE_URL"])
    catalog = _catalog(dsn)
    if len(catalog) < args.products * 0.9:
        subprocess.run([*flask, "seed", "--products", str(args.products), "--replace"],
                       cwd=ROOT, check=True, env=env)
        catalog = _catalog(dsn)
    client = app.test_client()

    def get(q: str) -> str:
        response = client.get("/products", query_string={"q": q})
        return response.get_data(as_text=True)

    print(f"{len(catalog):,} active products")
    print(report(run(get, catalog)))


if __name__ == "__main__":
    main()
