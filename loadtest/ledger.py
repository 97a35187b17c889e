"""The load's own record of every edit it attempted: what it sent and what it was told.

The Locust process appends one JSON line per edit (``LOADTEST_LEDGER``); after the run,
:mod:`.verify` compares it with the database. Each entry:

``via``            ``editor`` (inline row save, stock change, bulk action) or ``api`` (PATCH)
``kind``           ``save`` (default), ``bulk`` or ``image`` (an image upload: ``values`` holds
                   its unique alt text as ``images.alt``; 201 added)
``user``           the account that made it
``product_id``     the product (a save)
``sent_version``   the version the edit was based on (form field / ``If-Match``)
``status``         the HTTP status (200 saved; 409 editor conflict; 412 API conflict; other)
``version``        the product's version after a successful save (from the response)
``values``         the fields the edit changed, as the service stores them in history
                   (``price``, ``stock``, ``attributes.brand``)
``key``            the command key (form field / ``Idempotency-Key``); a double-submit sends
                   the same key twice and writes two entries
``replayed``       the answer said ``Idempotent-Replayed: true`` (the first outcome, again)
``product_ids``    the products a bulk action was sent for; ``changed``: how many it changed
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

ENV = "LOADTEST_LEDGER"
CONFLICT_STATUS = {"editor": 409, "api": 412}


class Ledger:
    """Append-only; one line per edit (gevent greenlets write whole lines without yielding)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", buffering=1, encoding="utf-8")

    def record(self, *, via: str, user: str, status: int, product_id: int | None = None,
               sent_version: int | None = None, version: int | None = None,
               values: dict[str, Any] | None = None, **extra: Any) -> None:
        """One edit; ``extra`` holds ``kind``, ``key``, ``replayed``, ``product_ids`` and
        ``changed`` where they apply."""
        entry = {"t": round(time.time(), 3), "via": via, "user": user, "product_id": product_id,
                 "sent_version": sent_version, "status": status, "version": version,
                 "values": values or {}, **extra}
        if product_id is None:
            del entry["product_id"], entry["sent_version"], entry["version"], entry["values"]
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")


def read(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


_shared: Ledger | None = None


def shared() -> Ledger:
    """The Locust process's ledger (``$LOADTEST_LEDGER``, default ``reports/ledger.jsonl``)."""
    global _shared
    if _shared is None:
        _shared = Ledger(os.environ.get(ENV, "reports/ledger.jsonl"))
    return _shared
