"""Reading the response cache's counter in the test process."""

from __future__ import annotations

from app.ops.metrics import RESPONSE_CACHE


def cache_count(result: str) -> float:
    """How many lookups ended with ``result`` so far in this process."""
    return RESPONSE_CACHE.labels(result)._value.get()
