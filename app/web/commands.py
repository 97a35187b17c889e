"""Every command applied at most once: the one mechanism every state-changing view uses.

The editor's forms and buttons carry a one-time key (``command_key``, rendered by the
``command_field()`` macro or the ``command_key()`` template global for ``hx-vals``);
:func:`once` wraps a write view so that the key is claimed in the request's transaction before
the view runs, the view's successful response is stored with it in that same transaction, and
:func:`~app.data.commands.claim` turns a repeat into a replay of the first response
(``Idempotent-Replayed: true``) without running the view again. The API uses
:func:`run_once` directly with its ``Idempotency-Key`` header (:mod:`app.api.idempotency`).

Wrapped views do not commit: :func:`run_once` commits when the response is a success (< 400)
and rolls back otherwise (a refusal changes nothing, so its key may be used again). A key is
bound to its user and to a digest of the endpoint, the URL's arguments and the body: the same
key for another request is refused with 422.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import ParamSpec

from flask import Response, abort, current_app, g, make_response, request
from flask.typing import ResponseReturnValue

from ..data import commands
from ..data.database import get_session

P = ParamSpec("P")

#: The form field (or ``hx-vals`` entry) that carries an editor command's key.
KEY_FIELD = "command_key"
#: What :func:`new_command_key` makes (and what a browser may send): URL-safe, 16-64 chars.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: Fields left out of a request's digest: they differ between two sends of one command.
UNSIGNED_FIELDS = frozenset({KEY_FIELD, "csrf_token"})
#: Response headers never replayed (the replay's own cookie and length are set afresh).
NOT_REPLAYED = frozenset({"set-cookie", "content-length"})
REPLAYED_HEADER = "Idempotent-Replayed"

MISSING_KEY = ("This form is missing its one-time key, so it cannot be applied safely. "
               "Reload the page and try again.")
GARBLED_KEY = "This form's one-time key is not valid. Reload the page and try again."
REUSED_KEY = ("This form was already used for a different change (or by someone else), so "
              "nothing was changed. Reload the page and try again.")


def new_command_key() -> str:
    """A fresh one-time key for one form or button (template global ``command_key``)."""
    return secrets.token_urlsafe(18)


def request_fingerprint(items: Iterable[tuple[str, str]], body: bytes = b"") -> str:
    """A digest of what the request asks: endpoint, URL arguments, fields (any order) and
    body. Two sends of one command give the same digest; any other request a different one."""
    digest = hashlib.sha256()
    digest.update(json.dumps([request.endpoint, sorted(
        (str(k), str(v)) for k, v in (request.view_args or {}).items())]).encode())
    digest.update(json.dumps(sorted(items)).encode())
    digest.update(body)
    return digest.hexdigest()


def _form_items() -> list[tuple[str, str]]:
    """The request's fields, and each uploaded file as its name and a digest of its bytes (the
    same key sent again with another file is another request: 422, not a replay)."""
    items = [(str(name), str(value)) for name, value in request.values.items(multi=True)
             if name not in UNSIGNED_FIELDS]
    for name, storage in request.files.items(multi=True):
        digest = hashlib.sha256()
        while chunk := storage.stream.read(64 * 1024):
            digest.update(chunk)
        storage.stream.seek(0)
        items.append((f"file:{name}", f"{storage.filename}:{digest.hexdigest()}"))
    return items


def replay(outcome: commands.Replay) -> Response:
    response = make_response(outcome.body, outcome.status)
    response.headers.clear()
    for name, value in outcome.headers:
        response.headers.add(name, value)
    response.headers[REPLAYED_HEADER] = "true"
    return response


async def run_once(view: Callable[[], Awaitable[ResponseReturnValue]], *, scope: str, key: str,
                   user_id: int | None, fingerprint: str, wait: bool,
                   refuse: Callable[[commands.Mismatch | commands.InProgress], Response]
                   ) -> Response:
    """Run ``view`` at most once for ``key`` (see the module docstring); ``refuse`` answers a
    key used for another request, or (``wait=False``) one whose first request still runs."""
    session = await get_session()
    outcome = await commands.claim(session, scope=scope, key=key, user_id=user_id,
                                   fingerprint=fingerprint, wait=wait,
                                   ttl_seconds=int(current_app.config["COMMAND_KEY_TTL"]))
    if isinstance(outcome, commands.Replay):
        await session.rollback()
        return replay(outcome)
    if isinstance(outcome, commands.Mismatch | commands.InProgress):
        await session.rollback()
        return refuse(outcome)
    response = make_response(await view())
    if response.status_code >= 400:
        await session.rollback()  # a refusal changes nothing, and frees its key
        return response
    headers = [(name, value) for name, value in response.headers.items()
               if name.lower() not in NOT_REPLAYED]
    await commands.record(session, scope=scope, key=key, user_id=user_id,
                          fingerprint=fingerprint, status=response.status_code,
                          headers=headers, body=response.get_data())
    await session.commit()
    return response


def _refuse_form(outcome: commands.Mismatch | commands.InProgress) -> Response:
    abort(422, REUSED_KEY)


def once(view: Callable[P, Awaitable[ResponseReturnValue]]) -> Callable[P, Awaitable[Response]]:
    """Decorate an editor write view (below its role check, which sets ``g.user``): the
    request must carry ``command_key`` (400 if it is missing or garbled) and runs at most once;
    a concurrent duplicate waits for the first and replays its response."""

    @functools.wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        key = request.values.get(KEY_FIELD)
        if not key:
            abort(400, MISSING_KEY)
        if not KEY_PATTERN.fullmatch(key):
            abort(400, GARBLED_KEY)

        async def run() -> ResponseReturnValue:
            return await view(*args, **kwargs)

        return await run_once(run, scope="web", key=key, user_id=g.user.id,
                              fingerprint=request_fingerprint(_form_items()), wait=True,
                              refuse=_refuse_form)

    return wrapper


__all__ = ["KEY_FIELD", "new_command_key", "once", "request_fingerprint", "run_once"]
