"""The load test's verifier accounts for an import made during the load: an honest ledger of a
real import job (an update merged with a colleague's change, a creation, a genuine conflict)
passes; an imported change the file did not ask for, or a conflict that was not one, is
reported."""

from __future__ import annotations

import copy
from datetime import datetime

import psycopg

from app.data.imports.files import dry_run
from app.data.products import Saved, update_product
from app.data.urls import libpq_dsn
from app.jobs.imports import start_import_job
from loadtest.verify import verify
from tests.support.imports import catalog, csv_bytes, row, run_import_job


def test_an_honest_import_passes_and_a_dishonest_one_does_not(app, sql, run_db, database_url):
    with psycopg.connect(libpq_dsn(database_url)) as connection:
        since: datetime = connection.execute("SELECT now()").fetchone()[0]
    users = {name: sql.user(f"{name}@example.com") for name in ("imp", "ed")}
    lighting = catalog(sql)["lighting"]
    lamp = sql.product("Desk Lamp", category_id=lighting, price="9.00", stock=5)
    hot = sql.product("Hot Lamp", category_id=lighting, price="9.00", stock=5)
    data = csv_bytes([
        row(id=lamp, slug="desk-lamp", name="Desk Lamp", price="9.00", stock=6, version=1),
        row(id=hot, slug="hot-lamp", name="Hot Lamp", price="9.00", stock=6, version=1),
        row(slug="new-lamp", name="New Lamp", stock=1)])

    async def colleague(session):  # after the export: a price (merges), a stock (conflicts)
        first = await update_product(session, lamp, {"price": "9.50"}, expected_version=1,
                                     user_id=users["ed"], source="inline")
        second = await update_product(session, hot, {"stock": 9}, expected_version=1,
                                      user_id=users["ed"], source="inline")
        return first, second
    assert all(isinstance(r, Saved) for r in run_db(colleague, commit=True))

    async def queue(session):
        stored = await dry_run(session, data, filename="f.csv", user_id=users["imp"],
                               max_rows=100)
        return await start_import_job(session, stored, user_id=users["imp"])
    job_id = run_db(queue, commit=True)
    run_import_job(app, job_id)
    ledger = [
        {"via": "editor", "user": "ed", "product_id": lamp, "sent_version": 1, "status": 200,
         "version": 2, "values": {"price": "9.50"}},
        {"via": "editor", "user": "ed", "product_id": hot, "sent_version": 1, "status": 200,
         "version": 2, "values": {"stock": 9}},
        {"via": "import", "kind": "import", "user": "imp", "status": 200, "job": job_id,
         "product_ids": [lamp, hot], "rows": {
             "desk-lamp": {"id": lamp, "version": 1, "values": {"stock": 6}},
             "hot-lamp": {"id": hot, "version": 1, "values": {"stock": 6}},
             "new-lamp": {"id": None, "version": None,
                          "values": {"name": "New Lamp", "stock": 1}}}},
    ]
    verdict = verify(ledger, database_url, users, since)
    assert verdict.problems == []
    assert (verdict.imported, verdict.import_conflicts, verdict.saved) == (2, 1, 2)

    asked_other = copy.deepcopy(ledger)
    asked_other[2]["rows"]["desk-lamp"]["values"]["stock"] = 7
    assert any("the file says 7" in p for p in verify(asked_other, database_url, users,
                                                         since).problems)
    sql.execute("UPDATE product_revisions SET changes = '{\"price\": {\"before\": \"9.00\","
                " \"after\": \"9.50\"}}' WHERE product_id = %s AND version = 2", hot)
    assert any("conflict on hot-lamp but nobody had changed" in p
               for p in verify(ledger, database_url, users, since).problems)
