"""An editor who imports a CSV file while the shoppers, editors and API clients are at work.

After ``delay`` seconds it exports a slice of the catalog (the products priced like the hot
products editors keep changing, then a price window; at most :data:`MAX_ROWS`), waits a little
more (editors and bulk actions change some of those products meanwhile), then imports the file
with every stock raised by one and a few new products added: the dry run, Apply, and the job's
progress polled until it ends - the requests the import page sends. It writes one ledger entry
with the file's rows (what the import asked for) and the job's id; :mod:`.verify` accounts for
every change the job made and every conflict it reported.

Runs in a thread of the load-test runner (``httpx``), with a job worker started beside the
server (:mod:`.run`).
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import threading
import time
from typing import Any

import httpx

from . import ledger
from .html import csrf_token

MAX_ROWS = 1500
NEW_PRODUCTS = 5


class Importer(threading.Thread):
    def __init__(self, base_url: str, email: str, password: str, ledger_path: str, *,
                 delay: float = 10.0, window: tuple[str, str] = ("40.00", "42.00"),
                 hot_prices: tuple[str, ...] = ()) -> None:
        super().__init__(name="importer", daemon=True)
        self.base_url, self.email, self.password = base_url, email, password
        self.ledger = ledger.Ledger(ledger_path)
        self.delay, self.window, self.hot_prices = delay, window, hot_prices
        self.outcome = "not run"

    def run(self) -> None:
        try:
            self.outcome = self._import()
        except Exception as error:  # reported by the runner; the ledger has what happened
            self.outcome = f"failed: {error!r}"

    def _import(self) -> str:
        time.sleep(self.delay)
        with httpx.Client(base_url=self.base_url, timeout=120) as client:
            token = csrf_token(client.get("/auth/login").text) or ""
            signed = client.post("/auth/login", data={
                "email": self.email, "password": self.password, "csrf_token": token})
            if signed.status_code != 302:
                return f"sign-in answered {signed.status_code}"
            rows: dict[str, dict[str, str]] = {}
            # The hot products (the ones editors keep changing, found by their price) first,
            # so that some rows merge with colleagues' changes or conflict with them.
            for low, high in [(price, price) for price in self.hot_prices] + [self.window]:
                exported = client.get("/editor/products/export.csv", params={
                    "min_price": low, "max_price": high})
                for item in csv.DictReader(io.StringIO(exported.text, newline="")):
                    if len(rows) < MAX_ROWS:
                        rows.setdefault(item["id"], item)
            time.sleep(self.delay)  # colleagues go on editing some of these
            return self._apply(client, list(rows.values()))

    def _apply(self, client: httpx.Client, rows: list[dict[str, str]]) -> str:
        run = secrets.token_hex(3)
        asked: dict[str, dict[str, Any]] = {}
        for item in rows:
            item["stock"] = str(int(item["stock"]) + 1)
            asked[item["slug"]] = {"id": int(item["id"]), "version": int(item["version"]),
                                   "values": {"stock": int(item["stock"])}}
        for n in range(NEW_PRODUCTS):
            slug = f"loadtest-import-{run}-{n}"
            rows.append({**rows[0], "id": "", "version": "", "slug": slug,
                         "name": f"Imported Lamp {run} {n}", "stock": "1"})
            asked[slug] = {"id": None, "version": None,
                           "values": {"name": f"Imported Lamp {run} {n}", "stock": 1}}
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        page = client.get("/editor/products/import").text
        csrf = csrf_token(page) or ""
        key = re.search(r'name="command_key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        htmx = {"HX-Request": "true", "X-CSRFToken": csrf}
        dry = client.post("/editor/products/import", headers=htmx, data={"command_key": key},
                          files={"file": ("load.csv", buffer.getvalue().encode(), "text/csv")})
        while dry.status_code == 200 and 'id="import-checking"' in dry.text:
            time.sleep(1)
            poll = re.search(r'hx-get="([^"]+poll=1)"', dry.text)
            dry = client.get(poll.group(1).replace("&amp;", "&"), headers=htmx)  # type: ignore[union-attr]
        if dry.status_code != 200:
            return f"the dry run answered {dry.status_code}"
        form = re.search(r'action="([^"]+/apply)"', dry.text)
        fields = dict(re.findall(r'name="(command_key|sha256)" value="([^"]+)"', dry.text))
        if form is None:
            return "nothing to apply"
        applied = client.post(form.group(1), headers=htmx, data=fields)
        found = re.search(r'id="job-(\d+)"', applied.text)
        if applied.status_code != 200 or found is None:
            return f"apply answered {applied.status_code}"
        job_id = int(found.group(1))
        deadline = time.monotonic() + 300
        box = ""
        while time.monotonic() < deadline:
            box = client.get(f"/editor/jobs/{job_id}", headers=htmx).text
            if "hx-trigger" not in box:
                break
            time.sleep(1)
        self.ledger.record(via="import", user=self.email, status=applied.status_code,
                           kind="import", job=job_id, rows=asked,
                           product_ids=sorted(v["id"] for v in asked.values() if v["id"]))
        words = re.search(r'class="job-words">([^<]+)<', box)
        return words.group(1) if words else "the job did not end in 300 s"
