"""The load test's report says what the load cost per request and what the response cache, the
facet memo and the answers about words kept beside it answered, read from the server's own
/metrics."""

from loadtest.resources import ResourceMeter, cache_counts
from loadtest.run import arguments

METRICS = """\
# HELP vitrine_response_cache_total Shopper requests looked up in the response cache.
# TYPE vitrine_response_cache_total counter
vitrine_response_cache_total{result="hit"} 30.0
vitrine_response_cache_total{result="miss"} 90.0
vitrine_response_cache_total{result="not_modified"} 2.0
# HELP vitrine_facet_memo_total Filters whose facet counts a shopper request needed.
# TYPE vitrine_facet_memo_total counter
vitrine_facet_memo_total{result="hit"} 10.0
vitrine_facet_memo_total{result="miss"} 40.0
# HELP vitrine_text_memo_total Answers about a search's words a shopper request needed.
# TYPE vitrine_text_memo_total counter
vitrine_text_memo_total{kind="prefix",result="hit"} 6.0
vitrine_text_memo_total{kind="prefix",result="miss"} 4.0
vitrine_text_memo_total{kind="closest_word",result="hit"} 2.0
vitrine_text_memo_total{kind="closest_word",result="miss"} 8.0
"""


def test_the_cache_counts_are_read_from_the_prometheus_text():
    assert cache_counts(METRICS) == {"hit": 30.0, "miss": 90.0, "not_modified": 2.0,
                                     "memo_hit": 10.0, "memo_miss": 40.0,
                                     "words_hit": 8.0, "words_miss": 12.0}  # all kinds
    assert cache_counts("") == {}


def test_the_report_gives_cpu_per_request_and_the_hit_ratio_of_the_run_alone():
    meter = ResourceMeter("http://unused", 0, "")
    meter._start.update(server=10.0, generator=1.0)
    meter._end.update(server=13.0, generator=1.5)
    meter._backends[:] = [{7: 2.0}, {7: 4.0, 8: 1.0}]  # backend 8 opened during the run
    meter._cache[:] = [cache_counts(METRICS), {"hit": 80.0, "miss": 190.0, "not_modified": 2.0,
                                               "memo_hit": 40.0, "memo_miss": 110.0,
                                               "words_hit": 68.0, "words_miss": 32.0}]
    cpu, cache, memo, words = meter.lines(requests=100)
    assert cpu == ("CPU per request: server 30.0 ms, PostgreSQL 30.0 ms, "
                   "load generator (Locust) 5.0 ms")
    assert cache == "Response cache: 50 hits of 150 lookups (33%), 0 answered 304"
    assert memo == "Facet counts kept by the workers: 30 of 100 filters counted (30%)"
    assert words == "Answers about words kept by the workers: 60 of 80 looked for (75%)"


def test_with_the_cache_off_the_report_says_so():
    meter = ResourceMeter("http://unused", 0, "")
    meter._start.update(server=0.0, generator=0.0)
    meter._end.update(server=1.0, generator=0.0)
    meter._backends[:] = [None, None]  # a remote database: no backend CPU to read
    meter._cache[:] = [{}, {}]
    assert meter.lines(requests=10) == [
        "CPU per request: server 100.0 ms, PostgreSQL n/a, load generator (Locust) 0.0 ms",
        "Response cache: no lookups (off)"]
    assert arguments(["--response-cache", "off"]).response_cache == "off"
    assert arguments([]).response_cache == "on"
