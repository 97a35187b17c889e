"""The shopper journey: search as you type, tick facets, change sort and price, page, open
products - with the requests the catalog page itself sends.

The page's search box fires after 300 ms without typing (``hx-trigger ... delay:300ms``) with
``HX-Request: true`` and every control of the form, so a shopper typing "oak table" sends a
request for each pause: "oa", "oak ta", "oak table". Facet and menu changes fire at once.
Opening a product and reloading are full-page loads.
"""

from __future__ import annotations

import random
import time

from locust import FastHttpUser, between, task

from .html import product_slugs
from .vocabulary import State, next_page, phrase, query_string, refine, toggle_facet

HTMX = {"HX-Request": "true", "HX-Current-URL": "/products"}
DEBOUNCE = 0.3  # seconds: the search box's hx-trigger delay


class ShopperUser(FastHttpUser):
    weight = 7
    wait_time = between(0.5, 2.5)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.state: State = {}
        self.slugs: list[str] = []
        self._fetch(htmx=False, name="/products (page)")

    # -- requests ---------------------------------------------------------------------------
    def _fetch(self, *, htmx: bool, name: str) -> None:
        query = query_string(self.state)
        with self.client.get("/products" + (f"?{query}" if query else ""), name=name,
                             headers=HTMX if htmx else None, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for /products?{query}")
                return
            self.slugs = product_slugs(response.text) or self.slugs

    # -- tasks ------------------------------------------------------------------------------
    @task(6)
    def type_a_search(self) -> None:
        """Type a phrase one character at a time; a request goes out at each pause."""
        words = phrase(self.rng)
        self.state = {k: v for k, v in self.state.items() if k not in ("q", "page", "sort")}
        for end in range(1, len(words) + 1):
            gap = self.rng.uniform(0.08, 0.45)  # time until the next keystroke
            last = end == len(words)
            if gap >= DEBOUNCE or last:
                time.sleep(DEBOUNCE)
                self.state["q"] = words[:end]
                self._fetch(htmx=True, name="/products?q= (typing, htmx)")
                time.sleep(max(0.0, gap - DEBOUNCE))
            else:
                time.sleep(gap)

    @task(4)
    def toggle_a_facet(self) -> None:
        toggle_facet(self.rng, self.state)
        self._fetch(htmx=True, name="/products facet (htmx)")

    @task(2)
    def refine(self) -> None:
        """Sort, price range, in-stock, page size: one control at a time, as on the page."""
        refine(self.rng, self.state)
        self._fetch(htmx=True, name="/products refine (htmx)")

    @task(3)
    def next_page(self) -> None:
        next_page(self.state)
        self._fetch(htmx=True, name="/products page (htmx)")

    @task(3)
    def open_a_product(self) -> None:
        if not self.slugs:
            self._fetch(htmx=False, name="/products (page)")
            return
        slug = self.rng.choice(self.slugs[:12])
        with self.client.get(f"/products/{slug}", name="/products/[slug]",
                             catch_response=True) as response:
            if response.status_code == 404:
                response.success()  # an editor hid it meanwhile: shoppers get 404, as designed
            elif response.status_code != 200:
                response.failure(f"{response.status_code} for /products/{slug}")

    @task(1)
    def reload_or_start_over(self) -> None:
        """A reload (or back to a bookmarked view) renders the full page for the same state."""
        if self.rng.random() < 0.5:
            self.state = {}
        self._fetch(htmx=False, name="/products (page)")
