"""What the load cost, per request: CPU of the server, of PostgreSQL and of the load generator
itself, and what the response cache and the facet counts each worker keeps answered.

All three run on one machine here, so the load generator's CPU is taken from the server's: a
generator that costs as much as the app (as Beautiful Soup's parsing once did) halves the load
the app can take. Reading it beside the others shows when the figures measure Locust rather
than Vitrine. Server CPU is Hypercorn's process and its workers (``/proc``), PostgreSQL's the
backends connected with the load's ``application_name`` (:class:`bench.cpu.BackendCpu`), the
generator's Locust's process as reaped (``RUSAGE_CHILDREN``).
"""

from __future__ import annotations

import resource
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.cpu import BackendCpu, cpu_seconds

APPLICATION_NAME = "vitrine-loadtest"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: counter -> the prefix of its results in :func:`cache_counts`
_COUNTERS = {"vitrine_response_cache_total": "", "vitrine_facet_memo_total": "memo_",
             "vitrine_text_memo_total": "words_"}


def cache_counts(metrics_text: str) -> dict[str, float]:
    """``vitrine_response_cache_total`` by result (hit, miss, not_modified, error),
    ``vitrine_facet_memo_total`` as ``memo_hit`` and ``memo_miss``, and
    ``vitrine_text_memo_total`` (all kinds together) as ``words_hit`` and ``words_miss``."""
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name in _COUNTERS:
                key = _COUNTERS[sample.name] + sample.labels["result"]
                counts[key] = counts.get(key, 0.0) + sample.value
    return counts


def _scrape(url: str) -> dict[str, float] | None:
    try:
        return cache_counts(httpx.get(url + "/metrics", timeout=10).text)
    except httpx.HTTPError:
        return None


@dataclass
class ResourceMeter:
    """Samples taken when Locust starts and right after it exits (the server still up)."""

    server_url: str
    server_pid: int
    dsn: str
    _start: dict[str, float] = field(default_factory=dict)
    _end: dict[str, float] = field(default_factory=dict)
    _backends: list[dict[int, float] | None] = field(default_factory=list)
    _cache: list[dict[str, float] | None] = field(default_factory=list)

    def _sample(self, into: dict[str, float]) -> None:
        into["server"] = cpu_seconds(self.server_pid)
        into["generator"] = _children_cpu()
        self._backends.append(BackendCpu(self.dsn, APPLICATION_NAME).sample())
        self._cache.append(_scrape(self.server_url))

    def start(self) -> ResourceMeter:
        self._sample(self._start)
        return self

    def stop(self) -> None:
        """Call after Locust was waited for and before anything else is reaped."""
        self._sample(self._end)

    def lines(self, requests: int) -> list[str]:
        if not self._end or requests <= 0:
            return []

        def per_request(seconds: float | None) -> str:
            return "n/a" if seconds is None else f"{seconds / requests * 1000:.1f} ms"

        server = self._end["server"] - self._start["server"]
        postgres = BackendCpu.spent(*self._backends[:2])
        generator = self._end["generator"] - self._start["generator"]
        lines = [f"CPU per request: server {per_request(server)}, PostgreSQL "
                 f"{per_request(postgres)}, load generator (Locust) {per_request(generator)}"]
        before, after = self._cache[:2]
        if before is None or after is None:
            lines.append("Response cache: n/a (/metrics did not answer)")
        else:
            hits = after.get("hit", 0) - before.get("hit", 0)
            misses = after.get("miss", 0) - before.get("miss", 0)
            lookups = hits + misses
            if not lookups:
                return [*lines, "Response cache: no lookups (off)"]
            lines.append(f"Response cache: {hits:,.0f} hits of {lookups:,.0f} lookups"
                         + f" ({hits / lookups:.0%})"
                         + f", {after.get('not_modified', 0) - before.get('not_modified', 0):,.0f}"
                         " answered 304")
            for prefix, kept_what, asked_what in (
                    ("memo_", "Facet counts", "filters counted"),
                    ("words_", "Answers about words", "looked for")):
                kept = after.get(prefix + "hit", 0) - before.get(prefix + "hit", 0)
                asked = kept + after.get(prefix + "miss", 0) - before.get(prefix + "miss", 0)
                if asked:
                    lines.append(f"{kept_what} kept by the workers: {kept:,.0f} of {asked:,.0f}"
                                 f" {asked_what} ({kept / asked:.0%})")
        return lines
