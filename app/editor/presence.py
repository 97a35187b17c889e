"""Presence: "ana@example.com is editing" on a row (issue 15), without any lock.

An open row form carries a random presence token and a heartbeat element
(``partials/editor/presence_beat.html``): htmx posts it when the form appears and every
``PRESENCE_HEARTBEAT`` seconds (:func:`touch`); editor.js posts :func:`leave` when the form
goes away (Cancel, a swap, ``pagehide`` through ``navigator.sendBeacon``); a save ends it on the
server (:func:`end_after_save`, called by the row save in its transaction); a stopped heartbeat
ends it after ``PRESENCE_TIMEOUT`` (:mod:`.presence_sweep`). Each start and end is announced
through the change feed as kind ``presence`` (:func:`announce`), and colleagues' pages fetch
the product's badge again (:func:`badge`), so what they see is read after the commit.

Both posts need a signed-in editor and the CSRF token (the app-wide ``CSRFProtect``; a beacon
sends it as a form field). They carry no one-time command key on purpose: a heartbeat is an
idempotent renewal (sending it twice is the same as once) and an end is final (a second one
finds it ended), so a key would only add a stored row every few seconds per open form.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.access import editor_required
from ..data import presence as store
from ..data import products as svc
from ..data.database import get_session
from ..data.lookups import get_or_404
from ..data.models import Product
from ..web.commands import new_command_key
from .blueprint import bp
from .live_feed import publish_presence
from .presence_sweep import ensure_running
from .rendering import page_or_fragment

BAD_TOKEN = "This form's presence key is not valid. Reload the page."  # noqa: S105 - a message
BADGE = "partials/editor/presence.html"

# Every row form renders a presence token like its command key (a fresh random key).
bp.add_app_template_global(new_command_key, "presence_token")


async def announce(session: AsyncSession, product_id: int, *, editing: bool) -> None:
    """Tell every editor's page that the signed-in editor started or stopped editing
    ``product_id`` (kind ``presence`` of the change feed, committed with the caller's
    transaction; the feed never sends it to shoppers)."""
    await publish_presence(session, product_id, editing=editing)


async def editors_of(session: AsyncSession, product_ids: list[int]) -> dict[int, list[Any]]:
    """The colleagues (not the viewer) editing each of ``product_ids`` now. Every editor page
    that shows presence asks this, so it also makes sure this worker sweeps expired ones."""
    ensure_running()
    return await store.editing(session, product_ids, exclude_user=g.user.id)


def _token() -> str:
    token = request.form.get("token")
    if not store.valid_token(token):
        abort(400, BAD_TOKEN)
    assert token is not None
    return token


async def _product(product_id: int) -> Product:
    return await get_or_404(await get_session(), Product, product_id, load=svc.WITH_CATEGORY)


@bp.post("/products/<id64:product_id>/presence")
@editor_required
async def touch(product_id: int) -> ResponseReturnValue:
    """Start or renew this form's presence (204). A heartbeat of a form that was closed, or of
    another editor's token, changes nothing (still 204: there is nothing to tell the page)."""
    token = _token()
    ensure_running()
    session = await get_session()
    await _product(product_id)
    started = await store.touch(session, token=token, user_id=g.user.id, product_id=product_id,
                                lifetime=current_app.config["PRESENCE_TIMEOUT"])
    if started:
        await announce(session, product_id, editing=True)
    await session.commit()
    return "", 204


@bp.post("/products/<id64:product_id>/presence/end")
@editor_required
async def leave(product_id: int) -> ResponseReturnValue:
    """End this form's presence (204): Cancel, the row swapped away; ``lapsed=1``: the page
    was left or hidden (it may come back from the browser's cache, form and all)."""
    token = _token()
    session = await get_session()
    await _product(product_id)
    final = request.form.get("lapsed") != "1"
    if await store.end(session, token=token, user_id=g.user.id, product_id=product_id,
                       final=final):
        await announce(session, product_id, editing=False)
    await session.commit()
    return "", 204


async def end_after_save(session: AsyncSession, product_id: int) -> None:
    """The editor saved the row: their presence on it ends in the save's transaction."""
    if await store.end_for(session, user_id=g.user.id, product_id=product_id):
        await announce(session, product_id, editing=False)


@bp.get("/products/<id64:product_id>/presence")
@editor_required
async def badge(product_id: int) -> ResponseReturnValue:
    """Who else is editing the product now: the badge for htmx (a row's, or the history
    page's with ``place=history``), a small page otherwise."""
    product = await _product(product_id)
    editors = (await editors_of(await get_session(), [product_id])).get(product_id, [])
    place = "history" if request.args.get("place") == "history" else "row"
    return page_or_fragment("editor/presence.html", BADGE, product=product, editors=editors,
                            place=place, title=f"Who is editing {product.name}",
                            history_url=url_for("editor.history", product_id=product_id))
