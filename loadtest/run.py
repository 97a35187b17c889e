"""``python -m loadtest``: a bounded, headless load against a local Hypercorn, then the checks.

1. Database: ``DATABASE_URL``, or the embedded dev database ``vitrine``; migrated to head;
   seeded with ``--products`` products if it is empty (an existing catalog is reused, never
   replaced).
2. Accounts: editor accounts and API accounts with tokens (:mod:`.accounts`).
3. Server: Hypercorn with ``hypercorn.toml`` and the production config (a generated
   ``SECRET_KEY``; cookies without ``Secure`` since this is plain http on loopback; rate limits
   off so the load measures the app rather than the limiter), bound to 127.0.0.1.
4. Locust, headless, for ``--duration`` (it stops by itself); worker RSS sampled throughout.
5. Report (requests/s, p50/p95/p99 per endpoint, errors; RSS start/middle/end) and the
   nothing-lost verification (:mod:`.verify`). CSV, HTML report, ledger and logs are kept in
   ``reports/loadtest-<time>/``.

Exits 1 if a request failed or the verification found a problem, else 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime

import psycopg

from app.data.urls import libpq_dsn
from bench.servers import ROOT, start_server

from . import accounts, ledger, report
from .importer import Importer
from .memory import RssSampler
from .resources import APPLICATION_NAME, ResourceMeter
from .settings import LoadSettings
from .verify import verify

REPORTS = ROOT / "reports"
HOT_PRODUCTS = 12
JOURNEYS = {"shopper": "ShopperUser", "editor": "EditorUser", "api": "ApiUser"}
#: Not a Locust user class: one more editor imports a CSV file during the load (.importer).
IMPORT = "import"


def parse_duration(text: str) -> int:
    """``90``, ``30s``, ``5m``, ``1h30m`` -> seconds (Locust's ``--run-time`` format)."""
    if text.isdigit():
        return int(text)
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text.strip())
    if not parts or not any(parts.groups()):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30s, 5m, 1h30m)")
    hours, minutes, seconds = (int(g or 0) for g in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest",
                                     description="Headless Locust load against a local server.")
    parser.add_argument("--users", type=int, default=50, help="concurrent Locust users")
    parser.add_argument("--spawn-rate", type=float, default=5, help="users started per second")
    parser.add_argument("--duration", type=parse_duration, default=parse_duration("5m"),
                        help="how long the load runs (30s, 5m, ...)")
    parser.add_argument("--products", type=int, default=100_000,
                        help="catalog size: seeded if the database is empty, else checked")
    parser.add_argument("--workers", type=int, default=2, help="Hypercorn worker processes")
    parser.add_argument("--rss-interval", type=float, default=5.0,
                        help="seconds between worker RSS samples")
    parser.add_argument("--response-cache", choices=("on", "off"), default="on",
                        help="the shared response cache (off: every request runs its SQL)")
    parser.add_argument("--journeys", default=f"shopper,editor,api,{IMPORT}",
                        help="which user classes run (comma-separated: shopper, editor, api),"
                             f" and whether an editor imports a file during the load ({IMPORT})")
    args = parser.parse_args(argv)
    if args.users < 1 or args.spawn_rate <= 0 or args.duration < 5 or args.workers < 1:
        parser.error("users, spawn rate and workers must be positive; duration at least 5 s")
    journeys = [j.strip() for j in args.journeys.split(",") if j.strip()]
    if not set(journeys) & set(JOURNEYS) or set(journeys) - {*JOURNEYS, IMPORT}:
        parser.error(f"--journeys takes some of {', '.join([*JOURNEYS, IMPORT])}, at least one"
                     " user class")
    args.user_classes = [JOURNEYS[j] for j in journeys if j in JOURNEYS]
    args.with_import = IMPORT in journeys
    return args


class Output:
    """Print and keep a copy for ``summary.txt``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from app.data.embedded import embedded_database_url

    return embedded_database_url(ROOT / "instance", "vitrine")


def flask(url: str, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                   env={**os.environ, "DATABASE_URL": url, "VITRINE_CONFIG": "development"},
                   check=True)


def prepare_catalog(url: str, products: int, say: Output) -> tuple[int, list[int], int]:
    """Migrate, seed if empty; return (product count, hot product ids, highest id)."""
    flask(url, "db", "upgrade")
    with psycopg.connect(libpq_dsn(url)) as connection:
        count = connection.execute("SELECT count(*) FROM products").fetchone()[0]
    if count == 0:
        say(f"seeding {products:,} products (once; later runs reuse them)")
        flask(url, "seed", "--products", str(products))
    elif count < products:
        raise SystemExit(f"the database has {count:,} products, fewer than --products "
                         f"{products:,}; use --products {count} or a DATABASE_URL of an empty "
                         "database to seed")
    with psycopg.connect(libpq_dsn(url)) as connection:
        count, top = connection.execute("SELECT count(*), max(id) FROM products").fetchone()
        hot = [row[0] for row in connection.execute(
            "SELECT id FROM products WHERE is_active ORDER BY md5(id::text) LIMIT %s",
            (HOT_PRODUCTS,))]
    return count, hot, top


def database_now(url: str) -> datetime:
    with psycopg.connect(libpq_dsn(url)) as connection:
        return connection.execute("SELECT now()").fetchone()[0]


def server_errors(log_text: str) -> int:
    """Requests the app answered with a 5xx, from its JSON request log."""
    count = 0
    for line in log_text.splitlines():
        if line.startswith("{"):
            try:
                status = json.loads(line).get("status")
            except ValueError:
                continue
            if isinstance(status, int) and status >= 500:
                count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    say = Output()
    run_dir = REPORTS / datetime.now().strftime("loadtest-%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)

    url = database_url()
    count, hot, top = prepare_catalog(url, args.products, say)
    editors = max(2, math.ceil(args.users * 0.2) + 1) + 1
    api_clients = max(1, math.ceil(args.users * 0.1))
    editor_list, password, api_list, tokens, user_ids = accounts.prepare(
        url, editors=editors, api_clients=api_clients)
    importer_email = editor_list.pop()  # imports a file during the load (.importer)
    settings = LoadSettings(editors=tuple(editor_list), password=password,
                            api_accounts=tuple(api_list), api_tokens=tuple(tokens),
                            hot_ids=tuple(hot), max_id=top)
    ledger_path = run_dir / "ledger.jsonl"
    env = {
        "VITRINE_CONFIG": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "VITRINE_INSECURE_COOKIES": "1",  # plain http on loopback: no Secure flag
        "VITRINE_RATELIMIT_ENABLED": "0",  # one client address for every user: do not throttle
        "DATABASE_URL": url,
        "VITRINE_RESPONSE_CACHE": "1" if args.response_cache == "on" else "0",
        # its backends' CPU is read by this name; one metrics view for both workers
        "VITRINE_DB_APPLICATION_NAME": APPLICATION_NAME,
        "PROMETHEUS_MULTIPROC_DIR": str(run_dir / "metrics"),
    }
    (run_dir / "metrics").mkdir()
    server = start_server("app:create_app()", run_dir, workers=args.workers, env=env,
                          config=ROOT / "hypercorn.toml", ready_path="/readyz", timeout=120)
    with (run_dir / "worker.log").open("wb") as worker_log:  # runs the import's jobs
        job_worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"],
                                      cwd=ROOT, env={**os.environ, **env}, stdout=worker_log,
                                      stderr=subprocess.STDOUT)
    with psycopg.connect(libpq_dsn(url)) as connection:
        hot_prices = tuple(f"{row[0]:.2f}" for row in connection.execute(
            "SELECT price FROM products WHERE id = ANY(%s)", (list(hot),)))
    importer = (Importer(server.url, importer_email, password, str(ledger_path),
                         delay=min(15.0, args.duration / 4), hot_prices=hot_prices)
                if args.with_import else None)
    say(f"server {server.url} (pid {server.pid}, {args.workers} workers, production config), "
        f"{count:,} products, {args.users} users at {args.spawn_rate:g}/s for "
        f"{args.duration} s, response cache {args.response_cache}")
    since = database_now(url)
    prefix = run_dir / "locust"
    sampler = RssSampler(server.pid, interval=args.rss_interval).start()
    meter = ResourceMeter(server.url, server.pid, libpq_dsn(url)).start()
    started = time.monotonic()
    try:
        command = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py"),
                   "--headless", "--host", server.url, "--users", str(args.users),
                   "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
                   "--stop-timeout", "15", "--csv", str(prefix), "--html",
                   str(run_dir / "report.html"), "--only-summary", "--loglevel", "WARNING",
                   *args.user_classes]
        locust_env = {**os.environ, "PYTHONPATH": str(ROOT), **settings.to_env(),
                      ledger.ENV: str(ledger_path)}
        with (run_dir / "locust.log").open("wb") as log:
            locust = subprocess.Popen(command, cwd=ROOT, env=locust_env, stdout=log,
                                      stderr=subprocess.STDOUT)
            if importer is not None:
                importer.start()
            try:
                locust.wait(args.duration + 120)
            except subprocess.TimeoutExpired:
                locust.terminate()
                locust.wait(30)
                say("Locust overran its run time and was stopped")
        meter.stop()
        sampler.stop()
        if importer is not None:
            importer.join(330)
    finally:
        job_worker.send_signal(signal.SIGTERM)
        try:
            job_worker.wait(30)
        except subprocess.TimeoutExpired:
            job_worker.kill()
            job_worker.wait(10)
        server.stop()
    elapsed = time.monotonic() - started

    rows = report.read_stats(prefix)
    requests, failures, rps = report.totals(rows)
    five_hundreds = server_errors(server.log())
    say()
    say(f"Load: {requests:,} requests in {elapsed:.0f} s, {rps:.1f} requests/s, "
        f"{failures} errors (failed requests), {five_hundreds} answered 5xx by the server")
    for line in report.table(rows):
        say(line)
    for line in meter.lines(requests):
        say(line)
    for failure in report.read_failures(prefix)[:10]:
        say(f"  error x{failure['Occurrences']}: {failure['Method']} {failure['Name']}: "
            f"{failure['Error'][:120]}")
    say()
    say("Worker memory (RSS):")
    for line in sampler.lines():
        say("  " + line)
    sampler.write_csv(run_dir / "rss.csv")

    say(f"Import during the load: {importer.outcome if importer else f'none (no {IMPORT!r})'}")
    entries = ledger.read(ledger_path)
    verdict = verify(entries, url, user_ids, since)
    say()
    say(f"Nothing lost, nothing twice: {verdict.saved} saves ({verdict.merged} merged field by "
        f"field), {verdict.conflicts} conflicts, {verdict.unchanged} saves with nothing to "
        f"change, {verdict.bulk} bulk actions, {verdict.images} image uploads, "
        f"{verdict.imported} imported changes ({verdict.import_conflicts} import conflicts), "
        f"{verdict.repeats} repeated command keys "
        "answered with the first outcome - "
        + ("all accounted for in products and product_revisions" if verdict.ok
           else f"{len(verdict.problems)} PROBLEMS"))
    for problem in verdict.problems:
        say("  " + problem)
    say()
    say(f"Reports: {run_dir.relative_to(ROOT)}/ (report.html, locust_stats.csv, ledger.jsonl, "
        "rss.csv, locust.log, hypercorn log)")
    (run_dir / "summary.txt").write_text("\n".join(say.lines) + "\n")
    return 0 if verdict.ok and failures == 0 and five_hundreds == 0 else 1
