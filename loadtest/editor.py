"""The editor journey: sign in, filter the table, edit rows in place, change stock - several
editors at once, often on the same few ("hot") products, so some saves meet a newer version.

Requests are the ones the editor page sends: htmx requests carry ``HX-Request`` and the CSRF
token from the page's ``<meta name="csrf-token">`` as ``X-CSRFToken``; a row save is the row
form (``PUT /editor/products/<id>`` with every field and the row's ``version``). A save answered
409 shows both versions; this editor then keeps theirs, as the page offers.

Every save is written to the ledger (:mod:`.ledger`) with what was sent and what came back.
"""

from __future__ import annotations

import itertools
import random
import time
from decimal import Decimal
from urllib.parse import urlencode

from locust import FastHttpUser, between, task

from . import ledger
from .html import csrf_token, form_fields, rows
from .settings import LoadSettings
from .vocabulary import phrase

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HOT_SHARE = 0.35  # how often an editor picks one of the hot products

_accounts = itertools.count()


class EditorUser(FastHttpUser):
    weight = 2
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.settings = LoadSettings.from_env()
        self.rng = random.Random()
        self.email = self.settings.editors[next(_accounts) % len(self.settings.editors)]
        self.csrf = ""
        self.rows: dict[int, int] = {}
        self.sign_in()

    # -- helpers ----------------------------------------------------------------------------
    def htmx(self) -> dict[str, str]:
        return {"HX-Request": "true", "X-CSRFToken": self.csrf,
                "HX-Current-URL": "/editor/products"}

    def sign_in(self) -> None:
        page = self.client.get("/auth/login", name="/auth/login")
        token = csrf_token(page.text) or ""
        body = urlencode({"csrf_token": token, "email": self.email,
                          "password": self.settings.password, "next": ""})
        with self.client.post("/auth/login", data=body, headers=FORM, allow_redirects=False,
                              name="/auth/login (POST)", catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}")
                return
        self.open_table()

    def open_table(self) -> None:
        with self.client.get("/editor/products", name="/editor/products (page)",
                             catch_response=True) as response:
            if response.status_code != 200 or not csrf_token(response.text):
                response.failure(f"editor table answered {response.status_code}")
                return
            self.csrf = csrf_token(response.text) or ""
            self.rows = rows(response.text)

    def pick_product(self) -> int | None:
        if self.settings.hot_ids and (self.rng.random() < HOT_SHARE or not self.rows):
            return self.rng.choice(self.settings.hot_ids)
        return self.rng.choice(list(self.rows)) if self.rows else None

    def record(self, response, *, product_id: int, sent_version: int,
               values: dict[str, object]) -> None:
        """Ledger entry for a save; 200 and 409 are both correct answers to a versioned save."""
        status = response.status_code
        version = rows(response.text).get(product_id) if status == 200 else None
        ledger.shared().record(via="editor", user=self.email, product_id=product_id,
                               sent_version=sent_version, status=status, version=version,
                               values=values)
        if status == 200 and version is not None:
            self.rows[product_id] = version
            response.success()
        elif status == 409:
            response.success()
        else:
            response.failure(f"save answered {status}")

    # -- tasks ------------------------------------------------------------------------------
    @task(3)
    def filter_the_table(self) -> None:
        query = {"q": phrase(self.rng) if self.rng.random() < 0.7 else "",
                 "status": self.rng.choice(("all", "active", "inactive")),
                 "stock": self.rng.choice(("all", "all", "out", "in")),
                 "sort": self.rng.choice(("newest", "name", "price_asc", "stock_asc")),
                 "page": str(self.rng.choice((1, 1, 1, 2, 3)))}
        with self.client.get("/editor/products?" + urlencode(query), headers=self.htmx(),
                             name="/editor/products (filter, htmx)",
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"filter answered {response.status_code}")
                return
            found = rows(response.text)
            if found:
                self.rows = found

    @task(5)
    def edit_a_row(self) -> None:
        """Open the row form, think, change the price (and sometimes stock), save."""
        product_id = self.pick_product()
        if product_id is None:
            return
        with self.client.get(f"/editor/products/{product_id}/edit", headers=self.htmx(),
                             name="/editor/products/[id]/edit (htmx)",
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"edit form answered {response.status_code}")
                return
            fields = form_fields(response.text)
        if "version" not in fields or "price" not in fields:
            return
        time.sleep(self.rng.uniform(0.5, 2.5))  # reading, typing
        price = Decimal(fields["price"] or "0")
        new_price = max(Decimal("1.00"), (price * Decimal(self.rng.choice(
            ("0.9", "0.95", "1.05", "1.1", "1.2")))).quantize(Decimal("0.01")))
        if new_price == price:
            new_price = price + Decimal("1.00")
        values: dict[str, object] = {"price": f"{new_price:.2f}"}
        fields["price"] = f"{new_price:.2f}"
        if self.rng.random() < 0.3:
            stock = int(fields.get("stock") or 0) + self.rng.randint(1, 20)
            fields["stock"] = str(stock)
            values["stock"] = stock
        sent_version = int(fields["version"])
        with self.client.put(f"/editor/products/{product_id}", data=urlencode(fields),
                             headers={**self.htmx(), **FORM},
                             name="/editor/products/[id] (save, htmx)",
                             catch_response=True) as response:
            self.record(response, product_id=product_id, sent_version=sent_version,
                        values=values)
            conflict = response.status_code == 409
        if conflict:  # "Keep theirs": back to the current row
            self.client.get(f"/editor/products/{product_id}/row", headers=self.htmx(),
                            name="/editor/products/[id]/row (htmx)")

    @task(2)
    def change_stock(self) -> None:
        """The stock box in the row: sends the row's version as the page last showed it."""
        product_id = self.pick_product()
        if product_id is None:
            return
        if product_id not in self.rows:  # a hot product not on this page: show its row first
            with self.client.get(f"/editor/products/{product_id}/row", headers=self.htmx(),
                                 name="/editor/products/[id]/row (htmx)",
                                 catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"row answered {response.status_code}")
                    return
                self.rows.update(rows(response.text))
            time.sleep(self.rng.uniform(0.3, 1.5))
        sent_version = self.rows.get(product_id)
        if sent_version is None:
            return
        stock = self.rng.randint(0, 500)
        body = urlencode({"stock": str(stock), "version": str(sent_version)})
        with self.client.patch(f"/editor/products/{product_id}/stock", data=body,
                               headers={**self.htmx(), **FORM},
                               name="/editor/products/[id]/stock (htmx)",
                               catch_response=True) as response:
            self.record(response, product_id=product_id, sent_version=sent_version,
                        values={"stock": stock})
