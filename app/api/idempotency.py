"""``Idempotency-Key`` on the API's POST, PATCH and DELETE (the IETF httpapi
idempotency-key draft; Stripe's behaviour where the draft leaves a choice).

A client that may retry (a timeout, a dropped connection) sends a key of its own choosing,
unique per operation, e.g. a UUID. The same mechanism as the editor's forms
(:func:`app.web.commands.run_once`) makes the change and stores the response in one
transaction, so:

* the same key with the same request (method, path, body) replays the first response, status
  and body and headers alike, with ``Idempotent-Replayed: true``, and changes nothing again;
* the same key with another request is refused: 422;
* the same key while its first request is still running: 409 (retry later);
* keys are the caller's own (scoped to the token's user) and kept ``COMMAND_KEY_TTL`` seconds.

Only changes that succeeded are stored: a refused request (400, 412, 422...) changed nothing
and its key may be sent again, e.g. with a corrected body. Without the header a request is
applied as sent (no deduplication). Either way the wrapped view does not commit: this does,
once the response is ready. ``If-Match`` keeps its strict meaning (no merge, 412).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import ParamSpec

from flask import Response, make_response, request
from flask.typing import ResponseReturnValue

from ..data import commands
from ..data.database import get_session
from ..web.commands import request_fingerprint, run_once
from .auth import require_editor_token
from .http import ApiError
from .schemas import IDEMPOTENCY_KEY_PATTERN as KEY_PATTERN
from .schemas import MAX_IDEMPOTENCY_KEY as MAX_KEY

P = ParamSpec("P")

HEADER = "Idempotency-Key"
#: A key: an sf-string (``"..."``) or a bare token, printable ASCII without quotes inside.
_KEY = re.compile(KEY_PATTERN)

IN_PROGRESS = ("A request with this Idempotency-Key is still being processed; nothing was "
               "changed by this one. Retry it later to get its outcome.")
REUSED = ("This Idempotency-Key was already used for a different request (method, path or "
          "body); nothing was changed. Use a new key for a new change.")


def _key() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    raw = raw.strip()
    if len(raw) > MAX_KEY + 2 or not _KEY.match(raw):
        raise ApiError(400, f"{HEADER} must be 1-{MAX_KEY} printable ASCII characters, e.g. a "
                            "UUID.", fields={HEADER: "Not a valid key."})
    return raw.strip('"')


def _refuse(outcome: commands.Mismatch | commands.InProgress) -> Response:
    if isinstance(outcome, commands.InProgress):
        raise ApiError(409, IN_PROGRESS, headers={"Retry-After": "1"})
    raise ApiError(422, REUSED, fields={HEADER: "Already used for another request."})


def idempotent(view: Callable[P, Awaitable[ResponseReturnValue]]
               ) -> Callable[P, Awaitable[Response]]:
    """Decorate an API write view (see the module docstring). The caller is authenticated
    first, since keys belong to the token's user."""

    @functools.wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        key = _key()

        async def run() -> ResponseReturnValue:
            return await view(*args, **kwargs)

        if key is None:
            response = make_response(await run())
            session = await get_session()
            if response.status_code < 400:
                await session.commit()
            return response
        bearer = await require_editor_token()
        fingerprint = request_fingerprint([("method", request.method)],
                                          request.get_data(cache=True))
        return await run_once(run, scope=f"api:{bearer.user_id}", key=key,
                              user_id=bearer.user_id, fingerprint=fingerprint, wait=False,
                              refuse=_refuse)

    return wrapper


__all__ = ["HEADER", "idempotent"]
