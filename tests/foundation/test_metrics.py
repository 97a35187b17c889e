"""/metrics: what it counts, who may read it, and one view of two Hypercorn workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.ops.server import PREFIX, metrics_directory
from tests.support.live import ROOT, free_port, start_server
from tests.support.probe_app import create_probe_app

PROBE = "tests.support.probe_app:create_probe_app()"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(response.get_data(as_text=True))


def test_a_scrape_counts_requests_by_endpoint_and_status(client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)

    ok = {"endpoint": "ops.healthz", "method": "GET", "status": "200"}
    assert value(after, "vitrine_requests_total", **ok) - value(
        before, "vitrine_requests_total", **ok) == 3
    missing = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "vitrine_requests_total", **missing) - value(
        before, "vitrine_requests_total", **missing) == 1
    count = ("vitrine_request_duration_seconds_count", {"endpoint": "ops.healthz"})
    assert value(after, count[0], **count[1]) - value(before, count[0], **count[1]) == 3
    assert value(after, "vitrine_requests_in_flight") == 1  # the scrape itself


def test_metrics_are_refused_to_other_addresses_and_through_a_proxy(client, app, monkeypatch):
    outsider = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", environ_base=outsider).status_code == 404
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert proxied.status_code == 404
    assert b"vitrine_requests_total" not in proxied.data

    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-token-for-tests")
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", environ_base=outsider, headers=wrong).status_code == 404
    right = {"Authorization": "Bearer s3cret-token-for-tests"}
    allowed = client.get("/metrics", environ_base=outsider, headers=right)
    assert allowed.status_code == 200 and b"vitrine_requests_total" in allowed.data


@pytest.fixture
def make_probe(database_url):
    made = []

    def make(**overrides):
        application = create_probe_app(DATABASE_URL=database_url, **overrides)
        made.append(application)
        return application

    yield make
    for application in made:
        application.close()


def _unavailable(client, cause: str) -> float:
    return value(scrape(client), "vitrine_unavailable_total", cause=cause)


def _in_background(client, path: str) -> threading.Thread:
    thread = threading.Thread(target=client.get, args=(path,))
    thread.start()
    time.sleep(0.3)  # let it take the slot or the connection first
    return thread


def test_503s_are_counted_by_cause(make_probe):
    timeouts = make_probe(REQUEST_TIMEOUT=0.3).test_client()
    before = _unavailable(timeouts, "request_timeout")
    assert timeouts.get("/_probe/sleep?seconds=3").status_code == 503
    assert _unavailable(timeouts, "request_timeout") - before == 1

    one_slot = make_probe(MAX_CONCURRENT_REQUESTS=1, REQUEST_QUEUE_TIMEOUT=0.2).test_client()
    before = _unavailable(one_slot, "queue_timeout")
    busy = _in_background(one_slot, "/_probe/sleep?seconds=1.5")
    assert one_slot.get("/healthz").status_code == 503
    busy.join()
    assert _unavailable(one_slot, "queue_timeout") - before == 1

    one_connection = make_probe(DB_POOL_SIZE=1, DB_POOL_TIMEOUT=0.2).test_client()
    before = _unavailable(one_connection, "pool_timeout")
    holding = _in_background(one_connection, "/_probe/db-sleep?seconds=1.5")
    assert one_connection.get("/_probe/backend-pid").status_code == 503
    holding.join()
    assert _unavailable(one_connection, "pool_timeout") - before == 1


def test_the_pool_gauges_show_the_worker_pool(make_probe):
    client = make_probe().test_client()
    assert client.get("/_probe/backend-pid").status_code == 200
    scraped = scrape(client)
    assert ("vitrine_db_pool_checked_out", frozenset()) in scraped
    assert value(scraped, "vitrine_db_pool_checked_out") == 0  # returned after the request
    assert value(scraped, "vitrine_db_pool_overflow") == -9  # 1 of 10 connections opened


def test_the_launcher_gives_each_start_a_fresh_directory_and_removes_it(monkeypatch, tmp_path):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    orphan = tmp_path / f"{PREFIX}999999999-left"  # a launcher killed with SIGKILL
    orphan.mkdir()
    with metrics_directory() as directory:
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory)
        assert directory.is_dir() and directory.parent == tmp_path
        (directory / "counter_1.db").write_bytes(b"")
        assert not orphan.exists()
    assert not directory.exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


@pytest.mark.live
def test_two_workers_report_one_view(database_url, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    server = start_server(database_url, tmp_path, app=PROBE, workers=2,
                          env={"PROMETHEUS_MULTIPROC_DIR": str(directory)})
    try:
        by_worker = _hit_both_workers(server.url)
        response = httpx.get(server.url + "/metrics", timeout=10)
    finally:
        server.stop()
    assert response.status_code == 200
    assert len(by_worker) == 2, by_worker  # each worker answered some of the requests
    scraped = samples(response.text)
    ok = {"endpoint": "ops.readyz", "method": "GET", "status": "200"}
    # One scrape, served by one worker, counts what both of them answered.
    assert value(scraped, "vitrine_requests_total", **ok) == sum(by_worker.values())
    pool_pids = {dict(labels).get("pid") for name, labels in scraped
                 if name == "vitrine_db_pool_checked_out"}
    assert len(pool_pids) == 2


def _hit_both_workers(url: str) -> dict[str, int]:
    """GET /readyz on new connections until both workers answered; requests per worker (the
    prefix of a generated X-Request-ID is per process)."""
    by_worker: dict[str, int] = {}
    with httpx.Client(base_url=url, timeout=10,
                      limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for _ in range(200):
            response = client.get("/readyz")
            assert response.status_code == 200
            worker = response.headers["X-Request-ID"].split("-")[0]
            by_worker[worker] = by_worker.get(worker, 0) + 1
            if len(by_worker) == 2 and sum(by_worker.values()) >= 10:
                break
    time.sleep(1.5)  # both pools sampled since (every second)
    return by_worker


@pytest.mark.live
def test_the_launcher_serves_metrics_and_removes_its_directory(database_url, tmp_path):
    """``python -m app.ops.server`` is Hypercorn plus a metrics directory for this start only."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path),
           "VITRINE_CONFIG": "testing", "TEST_DATABASE_URL": database_url}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "app.ops.server", "--config", str(ROOT / "hypercorn.toml"),
               "--bind", f"127.0.0.1:{port}", "--workers", "2", "app:create_app()"]
    log = (tmp_path / "launcher.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None and time.monotonic() < deadline
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        [directory] = tmp_path.glob(f"{PREFIX}{process.pid}-*")
        assert any(directory.glob("*.db"))  # the workers write their values here
        assert "vitrine_requests_total" in httpx.get(url + "/metrics", timeout=10).text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        log.close()
    assert process.returncode == 0
    assert not directory.exists()
