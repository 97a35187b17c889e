"""``GET /live/catalog?ids=1,2,3``: a shopper's live updates of the products on screen.

The product page and the listing's visible cards connect with htmx's SSE extension
(``hx-sse:connect``, ``hx-swap="none"``); each message is out-of-band HTML that replaces the
price and the stock state of one product wherever it is shown (``.live-price-<id>``,
``.live-stock-<id>``). Messages are rendered once per change by the worker's
:class:`~app.live.coalesce.Coalescer` - at most one per product per second - and the same bytes
go to every shopper watching it.

What a shopper may see is decided here, when the message is rendered, never taken from the
event: only a product's price and stock state, read from the database; a product that is
inactive (or gone) is shown as no longer available, with nothing else of it. A stream resumed
with ``Last-Event-ID`` starts with the current state of its products (they may have changed
while it was away). Anonymous; outside the catalog blueprint, so neither the response cache nor
the read replica applies (a lagging replica could show a change older than its event).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from flask import Blueprint, Flask, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy import BigInteger, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.bounds import MAX_PRODUCT_ID
from ..data.database import get_session
from ..live.coalesce import Coalescer
from ..live.hub import LiveEvent
from ..live.service import live_service
from ..live.streams import last_event_id, live_response
from ..web.errors import error_response
from ..web.parsing import ascii_digits
from .page_context import stock_text

bp = Blueprint("live", __name__)

#: Products one stream may follow (a listing page shows at most 96).
MAX_IDS = 100
#: Seconds between two updates of one product.
INTERVAL = 1.0
_TEMPLATE = "partials/catalog/live_product.html"
_READ = text("SELECT id, price, stock, is_active FROM products WHERE id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)))


class _Shown:
    """What a shopper sees of one product (``stock_text`` reads ``.stock``)."""

    def __init__(self, product_id: int, price: Decimal | None, stock: int, active: bool) -> None:
        self.id, self.price, self.stock, self.active = product_id, price, stock, active


def _ids() -> list[int] | None:
    raw = request.args.get("ids", "")
    parts = raw.split(",")
    if len(parts) > MAX_IDS:
        return None
    ids = sorted({ascii_digits(part, 19) or 0 for part in parts})
    return ids if all(1 <= i <= MAX_PRODUCT_ID for i in ids) else None


async def fragments(app: Flask, session: AsyncSession, ids: Sequence[int],
                    event_id: int) -> dict[int, bytes]:
    """One SSE message per product of ``ids``: out-of-band HTML of its price and stock."""
    rows = {row.id: row for row in (await session.execute(_READ, {"ids": list(ids)})).all()}
    template = app.jinja_env.get_template(_TEMPLATE)
    symbol = app.config["CATALOG_CURRENCY_SYMBOL"]
    messages = {}
    for product_id in ids:
        row = rows.get(product_id)
        shown = (_Shown(product_id, row.price, row.stock, True) if row is not None
                 and row.is_active else _Shown(product_id, None, 0, False))
        label, state = stock_text(shown) if shown.active else ("No longer available", "out")  # type: ignore[arg-type]
        html = template.render(product=shown, label=label, state=state,
                               price=f"{symbol}{shown.price:,.2f}" if shown.active else "")
        lines = b"".join(b"data: " + line.encode() + b"\n"
                         for line in html.splitlines() if line.strip())
        messages[product_id] = f"id: {event_id}\n".encode() + lines + b"\n"
    return messages


async def _render(app: Flask, ids: list[int], event_id: int) -> dict[int, bytes]:
    async with app.extensions["vitrine_db"].session() as session:
        return await fragments(app, session, ids, event_id)


def _coalescer(app: Flask, hub: Any) -> Coalescer:
    return Coalescer(hub, "product", partial(_render, app), interval=INTERVAL,
                     queue_size=int(app.config.get("LIVE_QUEUE", 256)))


@bp.get("/live/catalog")
async def catalog() -> ResponseReturnValue:
    ids = _ids()
    if ids is None:
        return error_response(400, f"Give up to {MAX_IDS} product ids, e.g. ?ids=1,2,3.")
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    service = live_service()
    feed = service.channel("shopper", partial(_coalescer, app))
    subscription = feed.watch(ids)
    opening = b""
    after = last_event_id()
    if after is not None:  # back after a disconnection: show the products as they are now
        opening = b"".join((await fragments(app, await get_session(), ids,
                                            max(after, service.hub().last_id))).values())
    return live_response(subscription, _message, service.heartbeat, opening)


def _message(event: LiveEvent) -> bytes:
    """What a shopper stream sends of an event: the fragment rendered once for every stream
    (a module function: no closure per stream)."""
    return event.message
