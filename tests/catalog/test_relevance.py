"""The judged query set (``bench/relevance_queries.json``, ``make relevance``) on a small seeded
catalog, with a floor on the overall scores: the search before issue 13 (name and description
only, no synonyms, no fallback) scored precision@10 0.30 and nDCG@10 0.28 on it."""

from __future__ import annotations

from bench.relevance import judged, load_queries, overall, report, run

from .conftest import seed_demo_products

#: Floors well above the old search and a little under what this one scores (0.89 / 0.92 here,
#: 0.98 / 0.94 at 20,000 products), so a change that makes searches worse fails here.
MIN_PRECISION = 0.85
MIN_NDCG = 0.80


def test_the_judged_queries_score_above_the_floor(client, sql):
    seed_demo_products(sql, 1500)
    rows = sql.all(
        "SELECT p.slug, p.name, c.name AS category, d.name AS department, p.attributes"
        " FROM products AS p JOIN categories AS c ON c.id = p.category_id"
        " LEFT JOIN categories AS d ON d.id = c.parent_id WHERE p.is_active")
    catalog = {r["slug"]: judged(r["slug"], r["name"], r["category"], r["department"],
                                 r["attributes"]) for r in rows}
    queries = load_queries()
    assert len(queries) >= 40

    def get(q: str) -> str:
        response = client.get("/products", query_string={"q": q})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    scores = run(get, catalog, queries)
    precision, ndcg = overall(scores)
    print(report(scores))  # shown with pytest -s
    assert precision >= MIN_PRECISION and ndcg >= MIN_NDCG, report(scores)
    # Every kind of query is there and none of the plain ones comes back empty.
    assert {s.kind for s in scores} >= {"category", "plural", "two words", "brand", "attribute",
                                       "synonym", "typo"}
    assert all(s.found for s in scores if s.kind != "typo"), report(scores)
