"""The API journey: a client with an editor's Bearer token lists and reads products and changes
prices with conditional PATCHes (``If-Match`` with the ETag it read), sometimes on the same hot
products the editors are changing, so some writes are refused with 412.

Every PATCH carries an ``Idempotency-Key``; some are retried with the same key, as a client
whose answer was lost would, and must be answered with the first outcome, not applied again.
Every PATCH (and retry) is written to the ledger (:mod:`.ledger`)."""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from decimal import Decimal
from urllib.parse import urlencode

from locust import FastHttpUser, between, task

from . import ledger
from .settings import LoadSettings
from .vocabulary import phrase

HOT_SHARE = 0.5
RETRY_SHARE = 0.1  # PATCHes sent again with the same Idempotency-Key (a retry)

_tokens = itertools.count()


class ApiUser(FastHttpUser):
    weight = 1
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.settings = LoadSettings.from_env()
        self.rng = random.Random()
        index = next(_tokens) % max(1, len(self.settings.api_tokens))
        self.token = self.settings.api_tokens[index] if self.settings.api_tokens else ""
        self.account = (self.settings.api_accounts[index] if self.settings.api_accounts
                        else f"api-token-{index}")
        self.headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        self.seen: list[int] = []

    def pick_product(self) -> int:
        if self.settings.hot_ids and self.rng.random() < HOT_SHARE:
            return self.rng.choice(self.settings.hot_ids)
        if self.seen and self.rng.random() < 0.7:
            return self.rng.choice(self.seen)
        return self.rng.randint(1, self.settings.max_id)

    @task(3)
    def list_products(self) -> None:
        query = {"q": phrase(self.rng), "page": str(self.rng.choice((1, 1, 2))),
                 "per_page": "24"}
        if self.rng.random() < 0.3:
            query["sort"] = self.rng.choice(("price_asc", "price_desc", "newest"))
        with self.client.get("/api/v1/products?" + urlencode(query), headers=self.headers,
                             name="/api/v1/products", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"list answered {response.status_code}")
                return
            items = json.loads(response.text).get("items", [])
            self.seen = [item["id"] for item in items][:24] or self.seen

    @task(3)
    def read_product(self) -> None:
        product_id = self.pick_product()
        with self.client.get(f"/api/v1/products/{product_id}", headers=self.headers,
                             name="/api/v1/products/[id]", catch_response=True) as response:
            if response.status_code not in (200, 404):  # ids are guessed: gaps are 404
                response.failure(f"read answered {response.status_code}")
            else:
                response.success()

    @task(1)
    def categories(self) -> None:
        self.client.get("/api/v1/categories", headers=self.headers, name="/api/v1/categories")

    @task(2)
    def change_a_price(self) -> None:
        product_id = self.pick_product()
        with self.client.get(f"/api/v1/products/{product_id}", headers=self.headers,
                             name="/api/v1/products/[id]", catch_response=True) as response:
            if response.status_code == 404:
                response.success()
                return
            if response.status_code != 200:
                response.failure(f"read answered {response.status_code}")
                return
            product = json.loads(response.text)
            etag = response.headers.get("ETag") or f'"{product["version"]}"'
        time.sleep(self.rng.uniform(0.2, 1.5))  # the client computes its new price
        price = Decimal(product["price"])
        new_price = max(Decimal("1.00"), (price * Decimal(self.rng.choice(
            ("0.9", "0.97", "1.03", "1.1")))).quantize(Decimal("0.01")))
        if new_price == price:
            new_price = price + Decimal("1.00")
        body = json.dumps({"price": f"{new_price:.2f}"})
        key = str(uuid.uuid4())
        # Sometimes the client retries (its answer "lost"): the same Idempotency-Key again.
        for _attempt in range(2 if self.rng.random() < RETRY_SHARE else 1):
            self.patch_price(product_id, body, etag, key, int(product["version"]),
                             f"{new_price:.2f}")

    def patch_price(self, product_id: int, body: str, etag: str, key: str, sent_version: int,
                    price: str) -> None:
        with self.client.request("PATCH", f"/api/v1/products/{product_id}", data=body,
                                 headers={**self.headers, "If-Match": etag,
                                          "Idempotency-Key": key,
                                          "Content-Type": "application/json"},
                                 name="/api/v1/products/[id] (PATCH)",
                                 catch_response=True) as response:
            status = response.status_code
            version = json.loads(response.text).get("version") if status == 200 else None
            ledger.shared().record(
                via="api", user=self.account, product_id=product_id,
                sent_version=sent_version, status=status, version=version,
                values={"price": price}, key=key,
                replayed=response.headers.get("Idempotent-Replayed") == "true")
            if status in (200, 412):
                response.success()
            else:
                response.failure(f"PATCH answered {status}")
