"""Schemathesis sends generated requests to every operation in ``/api/v1/openapi.json`` and
checks each response: no server error, a documented status code and content type, headers and
a body that match the document."""

from __future__ import annotations

import hashlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks

from app import create_app

TOKEN = "vit_" + "s" * 43

#: Its own app (Schemathesis loads the document at collection time, before fixtures exist); it
#: uses the same test database as the ``app`` fixture, whose migration runs before any test.
APP = create_app("testing")
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP.blocking_wsgi)

CHECKS = [
    st_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture
def seeded(sql):
    """A small catalog the generated ids and slugs can hit, and an editor's token."""
    user = sql.user("schema@example.com")
    sql.execute("INSERT INTO api_tokens (user_id, name, token_hash, expires_at)"
                " VALUES (%s, 'schemathesis', %s, now() + interval '1 day')",
                user, hashlib.sha256(TOKEN.encode()).hexdigest())
    categories = [sql.category(name) for name in ("Lighting", "Seating", "Tables")]
    for index in range(30):
        sql.product(f"Product {index}", category_id=categories[index % 3], price=f"{index}.50",
                    stock=index % 4, attributes={"brand": f"Brand{index % 5}"},
                    is_active=index % 7 != 0)


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_matches_its_openapi_document(case, app, seeded):
    headers = {"Authorization": f"Bearer {TOKEN}"} if case.method != "GET" else {}
    case.call_and_validate(headers=headers, checks=CHECKS)


def teardown_module() -> None:
    APP.close()
