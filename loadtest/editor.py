"""The editor journey: sign in, filter the table, edit rows in place, change stock, bulk price
changes - several editors at once, often on the same few ("hot") products, so some saves meet
a newer version.

Requests are the ones the editor page sends: htmx requests carry ``HX-Request`` and the CSRF
token from the page's ``<meta name="csrf-token">`` as ``X-CSRFToken``; a row save is the row
form (``PUT /editor/products/<id>`` with every field, the row's ``version`` and the form's
one-time ``command_key``). Editors change different fields (price, stock, brand), so two of
them on one product often merge field by field; a save answered 409 (the same field changed
by someone else) shows just that field, and this editor then keeps theirs, as the page
offers. Some saves and bulk actions are double-submitted - the same command key twice at once,
as a double-click sends them - and must be applied once.

Editors also add images to products (``POST /editor/products/<id>/images``, multipart: a small
PNG made here and a unique alt text, with the upload form's command key; some double-sent).

Every save, bulk action and image upload is written to the ledger (:mod:`.ledger`) with what
was sent and what came back, once per answer.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, between, task

from . import ledger
from .html import csrf_token, form_fields, rows
from .settings import LoadSettings
from .uploads import UPLOAD_FORM, multipart, small_png
from .vocabulary import phrase

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HOT_SHARE = 0.35  # how often an editor picks one of the hot products
DOUBLE_SAVE = 0.1  # how often a save is double-submitted (the same command key twice at once)
DOUBLE_BULK = 0.3  # how often a bulk action is
DOUBLE_IMAGE = 0.1  # how often an image upload is
#: Which fields one save changes: disjoint choices, so editors of one product often merge.
FIELD_CHOICES = (("price",), ("stock",), ("attributes.brand",), ("price", "stock"))
BRANDS = ("Halden", "Nordlys", "Lumen", "Oakridge", "Vellum", "Marlow")
CHANGED = re.compile(r"changed ([\d,]+) of")

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
               values: dict[str, object], key: str) -> None:
        """Ledger entry for a save; 200 and 409 are both correct answers to a versioned save."""
        status = response.status_code
        version = rows(response.text).get(product_id) if status == 200 else None
        ledger.shared().record(via="editor", user=self.email, product_id=product_id,
                               sent_version=sent_version, status=status, version=version,
                               values=values, key=key, replayed=replayed(response))
        if status == 200 and version is not None:
            self.rows[product_id] = version
            response.success()
        elif status == 409:
            response.success()
        else:
            response.failure(f"save answered {status}")

    def send(self, method: str, url: str, body: str, name: str, times: int,
             answer: Any) -> None:
        """Send one request ``times`` times at once (a double-click), ``answer(response)``
        for each response."""
        def once() -> None:
            with self.client.request(method, url, data=body, headers={**self.htmx(), **FORM},
                                     name=name, catch_response=True) as response:
                answer(response)

        gevent.joinall([gevent.spawn(once) for _ in range(times)], raise_error=True)

    def times(self, share: float) -> int:
        return 2 if self.rng.random() < share else 1

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
        """Open the row form, think, change some fields (price, stock or brand), save."""
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
        if "version" not in fields or "price" not in fields or "command_key" not in fields:
            return
        time.sleep(self.rng.uniform(0.5, 2.5))  # reading, typing
        values = self.change(fields, self.rng.choice(FIELD_CHOICES))
        sent_version = int(fields["version"])
        conflict = []

        def answer(response: Any) -> None:
            self.record(response, product_id=product_id, sent_version=sent_version,
                        values=values, key=fields["command_key"])
            conflict.append(response.status_code == 409)

        self.send("PUT", f"/editor/products/{product_id}", urlencode(fields),
                  "/editor/products/[id] (save, htmx)", self.times(DOUBLE_SAVE), answer)
        if any(conflict):  # "Discard my changes": back to the current row
            self.client.get(f"/editor/products/{product_id}/row", headers=self.htmx(),
                            name="/editor/products/[id]/row (htmx)")

    def change(self, fields: dict[str, str], which: tuple[str, ...]) -> dict[str, object]:
        """Change ``which`` fields of the row form in place; the values as history stores
        them."""
        values: dict[str, object] = {}
        if "price" in which:
            price = Decimal(fields["price"] or "0")
            new_price = max(Decimal("1.00"), (price * Decimal(self.rng.choice(
                ("0.9", "0.95", "1.05", "1.1", "1.2")))).quantize(Decimal("0.01")))
            if new_price == price:
                new_price = price + Decimal("1.00")
            fields["price"] = values["price"] = f"{new_price:.2f}"
        if "stock" in which:
            stock = int(fields.get("stock") or 0) + self.rng.randint(1, 20)
            fields["stock"] = str(stock)
            values["stock"] = stock
        if "attributes.brand" in which:
            brand = self.rng.choice([b for b in BRANDS if b != fields.get("brand")])
            fields["brand"] = values["attributes.brand"] = brand
        return values

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
        key = secrets.token_urlsafe(18)  # the row's stock box renders one per row
        body = urlencode({"stock": str(stock), "version": str(sent_version),
                          "command_key": key})
        with self.client.patch(f"/editor/products/{product_id}/stock", data=body,
                               headers={**self.htmx(), **FORM},
                               name="/editor/products/[id]/stock (htmx)",
                               catch_response=True) as response:
            self.record(response, product_id=product_id, sent_version=sent_version,
                        values={"stock": stock}, key=key)

    @task(1)
    def bulk_price_change(self) -> None:
        """Select two or three rows of the table (often a hot one), "Change price by amount",
        Apply - sometimes double-clicked."""
        if len(self.rows) < 2:
            return
        ids = self.rng.sample(sorted(self.rows), min(len(self.rows), self.rng.randint(2, 3)))
        if self.settings.hot_ids and self.rng.random() < HOT_SHARE:
            ids[0] = self.rng.choice(self.settings.hot_ids)
        ids = sorted(set(ids))
        key = secrets.token_urlsafe(18)
        body = urlencode([("command_key", key), ("action", "price_amount"),
                          ("value", self.rng.choice(("1", "-1", "2.50"))),
                          ("scope", "selected"), *(("ids", str(i)) for i in ids)])

        def answer(response: Any) -> None:
            status = response.status_code
            found = CHANGED.search(response.text) if status == 200 else None
            changed = int(found.group(1).replace(",", "")) if found else None
            ledger.shared().record(via="editor", kind="bulk", user=self.email, status=status,
                                   product_ids=ids, changed=changed, key=key,
                                   replayed=replayed(response))
            if status == 200 and changed is not None:
                self.rows.update(rows(response.text))
                response.success()
            else:
                response.failure(f"bulk answered {status}")

        self.send("POST", "/editor/products/bulk", body, "/editor/products/bulk (htmx)",
                  self.times(DOUBLE_BULK), answer)


    @task(1)
    def add_an_image(self) -> None:
        """Open a product's images (the panel, as htmx asks for it), add a small image with a
        unique alt text - sometimes double-clicked."""
        product_id = self.pick_product()
        if product_id is None:
            return
        url = f"/editor/products/{product_id}/images"
        with self.client.get(url, headers=self.htmx(), name="/editor/products/[id]/images (htmx)",
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"images panel answered {response.status_code}")
                return
            fields = form_fields(UPLOAD_FORM.search(response.text).group(0)
                                 if UPLOAD_FORM.search(response.text) else "")
        if "command_key" not in fields:
            return  # the product has as many images as it may
        time.sleep(self.rng.uniform(0.5, 2.0))  # choosing the file, typing the alt text
        alt = f"Load test image {secrets.token_hex(6)}"
        body, content_type = multipart(
            {"command_key": fields["command_key"], "alt": alt},
            ("image", f"{alt[-12:]}.png", small_png(self.rng), "image/png"))

        def answer(response: Any) -> None:
            status = response.status_code
            ledger.shared().record(via="editor", kind="image", user=self.email,
                                   product_id=product_id, status=status,
                                   values={"images.alt": alt}, key=fields["command_key"],
                                   replayed=replayed(response))
            if status == 201:
                response.success()
            else:
                response.failure(f"image upload answered {status}")

        def once() -> None:
            with self.client.request("POST", url, data=body,
                                     headers={**self.htmx(), "Content-Type": content_type},
                                     name="/editor/products/[id]/images (upload, htmx)",
                                     catch_response=True) as response:
                answer(response)

        gevent.joinall([gevent.spawn(once) for _ in range(self.times(DOUBLE_IMAGE))],
                       raise_error=True)


def replayed(response: Any) -> bool:
    """Whether the answer is the stored outcome of the same command key sent before."""
    return (response.headers.get("Idempotent-Replayed") or "") == "true"
