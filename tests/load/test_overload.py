"""Ten times more concurrent requests than the pool can serve: the excess waits a bounded time,
then gets 503 with Retry-After (never a 500, never a hang), and service is normal again as soon
as the load drops."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from .conftest import server_errors, vitrine_connections
from .traffic import HTMX, burst, statuses

pytestmark = pytest.mark.live

POOL = 2
HOLD = 0.4  # seconds each request holds a pooled connection
WAIT = 0.5  # seconds a request may wait (for a slot, or for a pooled connection)

# Two ways a worker meets more requests than connections: its concurrency limit equals the pool
# (excess waits for a slot), or the limit is higher and the excess waits for a connection.
LIMIT_BOUND = {"VITRINE_MAX_CONCURRENT_REQUESTS": str(POOL),
               "VITRINE_REQUEST_QUEUE_TIMEOUT": str(WAIT)}
POOL_BOUND = {"VITRINE_MAX_CONCURRENT_REQUESTS": "64", "VITRINE_REQUEST_QUEUE_TIMEOUT": "5",
              "VITRINE_DB_POOL_TIMEOUT": str(WAIT)}


@pytest.mark.parametrize("limits", [LIMIT_BOUND, POOL_BOUND], ids=["limit-bound", "pool-bound"])
def test_ten_times_the_pool_gets_503_with_retry_after_then_recovers(serve, sql, limits):
    server = serve({"VITRINE_DB_POOL_SIZE": str(POOL), "VITRINE_DB_MAX_OVERFLOW": "0",
                    "VITRINE_RETRY_AFTER": "3", **limits})
    path = f"/_probe/db-sleep?seconds={HOLD}"

    async def overload():
        return await asyncio.gather(burst(server.url, [path] * (5 * POOL)),
                                    burst(server.url, [path] * (5 * POOL), headers=HTMX))

    plain, htmx = asyncio.run(overload())
    outcomes = plain + htmx
    counts = statuses(outcomes)
    assert set(counts) <= {200, 503}, counts  # no 500, no dropped or timed-out connection
    assert counts[200] >= POOL and counts[503] >= 10 * POOL // 2, counts
    refused = [o for o in outcomes if o.status == 503]
    assert all(o.retry_after == "3" for o in refused)
    # Refused requests did queue (for about WAIT), but only for a bounded time.
    assert min(o.seconds for o in refused) >= WAIT * 0.9
    assert max(o.seconds for o in outcomes) < WAIT + HOLD + 5
    # htmx gets a fragment aimed at the page's message area, not swapped into the results.
    assert all(o.headers["hx-retarget"] == "#messages" for o in htmx if o.status == 503)

    # Load drops to what the pool can serve: every request succeeds again.
    for _ in range(3):
        again = asyncio.run(burst(server.url, [path] * POOL))
        assert statuses(again) == {200: POOL}
    assert httpx.get(server.url + "/products", headers=HTMX).status_code == 200
    assert httpx.get(server.url + "/_probe/pool").json()["checked_out"] == 0
    assert vitrine_connections(sql) <= POOL
    assert vitrine_connections(sql, "idle in transaction%") == 0
    assert server_errors(server) == []
