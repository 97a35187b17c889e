"""Which requests read from the replica: shopper reads, unless the session just wrote.

With ``DATABASE_REPLICA_URL`` set, a ``GET``/``HEAD`` of the shopper catalog (list and product
pages) and of the API without a token is a *shopper read*: :func:`app.data.database.prefer_replica`
lets it use the replica (while that is up and within ``REPLICA_MAX_LAG``). Everything else - any
write, the editor's pages, an API call with a token, sign-in - uses the primary.

**Read your writes.** A replica may be a moment behind: an editor who saves a product and then
opens the shop must still see the save. After a successful write (``POST``/``PUT``/``PATCH``/
``DELETE`` answered below 400) by a signed-in session, the session remembers until when
(``READ_YOUR_WRITES`` seconds) its reads go to the primary. Anonymous requests never touch the
session here (their responses stay shareable by the response cache).
"""

from __future__ import annotations

import time

from flask import Response, current_app, request, session
from flask.sansio.app import App

from ..data.database import prefer_replica

#: The session key holding the time (epoch seconds) until which this session reads the primary.
PRIMARY_UNTIL = "_primary_until"
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: Blueprints whose safe requests are shopper reads (the API only without a token).
SHOPPER_BLUEPRINTS = frozenset({"catalog"})


def _has_session() -> bool:
    return str(current_app.config.get("SESSION_COOKIE_NAME") or "session") in request.cookies


def route_shopper_reads() -> None:
    """``before_request``: let a shopper read use the replica."""
    if request.method not in SAFE_METHODS:
        return
    blueprint = request.blueprint
    if blueprint == "api":
        if "Authorization" in request.headers:
            return
    elif blueprint not in SHOPPER_BLUEPRINTS:
        return
    if _has_session() and float(session.get(PRIMARY_UNTIL, 0)) > time.time():
        return  # this session wrote a moment ago: it reads what it wrote, on the primary
    prefer_replica()


def remember_own_write(response: Response) -> Response:
    """``after_request``: a signed-in session that wrote reads the primary for a while."""
    if (request.method not in SAFE_METHODS and response.status_code < 400 and session
            and not request.path.startswith("/static/")):
        session[PRIMARY_UNTIL] = round(time.time() + float(current_app.config["READ_YOUR_WRITES"]),
                                       1)
    return response


def init_app(app: App) -> None:
    """Route shopper reads when a replica is configured (nothing to do otherwise)."""
    if not app.config.get("DATABASE_REPLICA_URL"):
        return
    app.before_request(route_shopper_reads)
    app.after_request(remember_own_write)
