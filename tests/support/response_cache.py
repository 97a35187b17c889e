"""Reading the response cache's and the facet memo's counters in the test process, and changing
the catalog behind the triggers' back (so that only a kept answer can still show the old data)."""

from __future__ import annotations

from typing import Any

import psycopg

from app.data.urls import libpq_dsn
from app.ops.metrics import FACET_MEMO, RESPONSE_CACHE, TEXT_MEMO


def cache_count(result: str) -> float:
    """How many lookups ended with ``result`` so far in this process."""
    return RESPONSE_CACHE.labels(result)._value.get()


def memo_count(result: str) -> float:
    """How many facet memo lookups ended with ``result`` (hit, miss) so far in this process."""
    return FACET_MEMO.labels(result)._value.get()


def text_memo_count(kind: str, result: str) -> float:
    """How many lookups of answers about words (``kind``: prefix, closest_word, finds_any)
    ended with ``result`` (hit, miss) so far in this process."""
    return TEXT_MEMO.labels(kind, result)._value.get()


def change_unseen(database_url: str, statement: str, *params: Any) -> None:
    """Run ``statement`` without firing any trigger: the catalog version stays the same."""
    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as connection:
        connection.execute("SET session_replication_role = replica")
        connection.execute(statement, params)
