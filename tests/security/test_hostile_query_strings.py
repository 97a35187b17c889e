"""Every GET route, with a NUL, a Unicode digit (``²``) or a lone surrogate in every parameter
it reads, answers below 500 (issue 11, items 1 and 2: a query-string fuzz found 100 such 500s).

The routes come from the URL map, so a new GET route is fuzzed without editing this test.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import insert_token
from tests.support.clients import signed_in

TOKEN = "vit_" + "q" * 43
#: Every query parameter a view reads (catalog, editor, API, sign-in).
PARAMETERS = ("q", "category", "brand", "colour", "size", "min_price", "max_price", "in_stock",
              "stock", "active", "status", "sort", "page", "per_page", "cursor", "next",
              "version", "to_version", "ids", "is_active")
#: Raw (already percent-encoded) hostile values: NUL, "²", "٣", a lone surrogate in UTF-8
#: (invalid UTF-8), and the same mixed into ordinary text.
HOSTILE = ("%00", "a%00b", "%C2%B2", "1%C2%B2", "%D9%A3", "%ED%A0%80", "a%ED%A0%80b")
SKIPPED = {"static", "metrics.metrics"}


def get_routes(app) -> list[tuple[str, str]]:
    """(endpoint, rule) of every GET route, with its path arguments left as placeholders."""
    return sorted((rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
                  if "GET" in (rule.methods or ()) and rule.endpoint not in SKIPPED)


@pytest.fixture
def admin_client(client, sql):
    category = sql.category("Lighting")
    product_id = sql.product("Brass Lamp", category_id=category, slug="brass-lamp")
    user_id = sql.user("fuzz-admin@example.com", role="admin")
    insert_token(sql, user_id, TOKEN)
    signed_in(client, "fuzz-admin@example.com")
    sql.execute("INSERT INTO jobs (id, kind, user_id, total) VALUES (1, 'bulk_change', %s, 1)",
                user_id)
    sql.execute(  # a CSV import's dry run (/editor/imports/<id>), with a rejected row
        "INSERT INTO import_files (id, user_id, filename, size, sha256, content, dry_run)"
        " VALUES (1, %s, 'f.csv', 1, %s, 'x', %s)", user_id, "0" * 64,
        '{"rows": 1, "counts": {"create": 0, "update": 0, "unchanged": 0, "conflict": 0,'
        ' "rejected": 1}, "merged": 0, "problems": [{"line": 2, "item": "x", "kind":'
        ' "rejected", "reason": "bad"}], "problem_count": 1, "delimiter": "comma",'
        ' "bom": false}')
    return client, {"product_id": str(product_id), "slug": "brass-lamp", "ref": "brass-lamp",
                    "job_id": "1", "digest": "0" * 64, "ext": "webp", "file_id": "1"}


def test_the_url_map_has_the_routes_this_test_means_to_cover(app):
    endpoints = {endpoint for endpoint, _ in get_routes(app)}
    assert {"catalog.index", "catalog.product", "editor.products", "editor.history",
            "api.list_products", "api.product_detail", "auth.login"} <= endpoints


@pytest.mark.parametrize("bearer", [False, True], ids=["session", "bearer"])
def test_no_hostile_query_value_gives_a_server_error(app, admin_client, bearer):
    client, arguments = admin_client
    headers = {"Authorization": f"Bearer {TOKEN}"} if bearer else {}
    failures = []
    for _endpoint, rule in get_routes(app):
        path = rule
        for name, value in arguments.items():
            path = path.replace(f"<id64:{name}>", value).replace(f"<{name}>", value)
        assert "<" not in path, f"no value for an argument of {rule}"
        for name in PARAMETERS:
            for value in HOSTILE:
                url = f"{path}?{name}={value}"
                for extra in ({}, {"HX-Request": "true"}):
                    status = client.get(url, headers={**headers, **extra}).status_code
                    if status >= 500:
                        failures.append(f"{url} {extra} -> {status}")
    assert not failures, "\n".join(failures[:40])


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_path_values_are_not_found(app, admin_client, value):
    client, _ = admin_client
    for path in (f"/products/{value}", f"/api/v1/products/{value}",
                 f"/editor/products/{value}/row"):
        assert client.get(path).status_code == 404, path
