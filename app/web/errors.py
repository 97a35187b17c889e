"""Error responses in the form the client can use: JSON for the API, a fragment for htmx
(retargeted to the page's message area), a full page for a browser. Tracebacks and SQL never
reach a client; they go to the log with the request id.

An unexpected exception (a bug, not a refused request or an unavailable database) is also
*reported*: :func:`report_unexpected` sends Flask's ``got_request_exception``, which Flask sends
itself only when no handler catches the exception. Vitrine's catch-all handler does catch it (to
render the friendly page), so it sends the signal in Flask's place; error reporting (Sentry's
Flask integration, see :mod:`.reporting`) and tests subscribe to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    current_app,
    got_request_exception,
    jsonify,
    make_response,
    render_template,
    request,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from ..runtime.asgi import REQUEST_ID_KEY, UNAVAILABLE_KEY
from .htmx import is_htmx, retarget_to_messages

log = logging.getLogger("vitrine.errors")
F = TypeVar("F", bound=Callable[..., Any])

MESSAGES = {
    400: "The request was not understood.",
    401: "Please sign in to continue.",
    403: "You do not have permission to do that.",
    404: "We could not find that page.",
    405: "That method is not allowed here.",
    409: "Someone else changed this first.",
    413: "The request is too large.",
    415: "That content type is not supported.",
    422: "Some fields need attention.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side.",
    503: "The service is busy. Please try again in a moment.",
}


#: The view attributes :func:`errors_in_place` sets.
IN_PLACE = "vitrine_errors_in_place"
TOO_LARGE = "vitrine_too_large_words"


def errors_in_place(target: Callable[[dict[str, Any]], str], *,
                    too_large: Callable[[Mapping[str, Any]], str] | None = None
                    ) -> Callable[[F], F]:
    """Show the decorated view's error responses to htmx *where the editor is* instead of in
    the page's message region: ``target(view_args)`` is the CSS selector of the element that
    gets the message (an upload form's error slot, say). This covers refusals made before the
    view runs too - a body over its size (413, decided by the adapter), a stale CSRF token -
    since Flask has routed the request by then. Put it above the role check.

    ``too_large(app.config)`` words the 413 of a body past the route's allowance
    (:mod:`app.runtime.allowances`) for that route ("The file is larger than 10 MB ..."): the
    one handler of those 413s is :func:`register_error_handlers`'s, for every upload route."""

    def mark(view: F) -> F:
        setattr(view, IN_PLACE, target)
        if too_large is not None:
            setattr(view, TOO_LARGE, too_large)
        return view

    return mark


def _routed_view() -> Any:
    if request.url_rule is None:
        return None
    return current_app.view_functions.get(request.url_rule.endpoint)


def _too_large_words() -> str | None:
    words: Callable[[Mapping[str, Any]], str] | None = getattr(_routed_view(), TOO_LARGE, None)
    return None if words is None else words(current_app.config)


def _in_place_target() -> str | None:
    target: Callable[[dict[str, Any]], str] | None = getattr(_routed_view(), IN_PLACE, None)
    return None if target is None else target(request.view_args or {})


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(
    code: int,
    message: str | None = None,
    *,
    retry_after: int | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """Build the error response for the current request in its client's format."""
    message = message or MESSAGES.get(code, "Error")
    if wants_json():
        body = {"error": message, "status": code}
        if extra:
            body.update(extra)
        response = make_response(jsonify(body), code)
    elif is_htmx():
        response = make_response(
            render_template("partials/error.html", code=code, message=message), code)
        in_place = _in_place_target()
        if in_place is None:
            retarget_to_messages(response)
        else:
            response.headers["HX-Retarget"] = in_place
            response.headers["HX-Reswap"] = "innerHTML"
    else:
        response = make_response(render_template("error.html", code=code, message=message), code)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def register_error_handlers(app: Flask) -> None:
    retry_after = app.config["RETRY_AFTER_SECONDS"]

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Response:
        code = error.code or 500
        description = error.description if code < 500 and error.description else None
        if code == 503 or isinstance(error, ServiceUnavailable):
            return error_response(503, retry_after=retry_after)
        if code == 404 and description and description.startswith("The requested URL"):
            description = None
        if code == 405 and description and description.startswith("The method"):
            description = None
        if code == 413:  # over the route's allowance: the route's own words, if it has any
            description = _too_large_words() or description
        response = error_response(code, description)
        valid_methods = getattr(error, "valid_methods", None)
        if code == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(PoolTimeout)
    def handle_pool_timeout(error: PoolTimeout) -> Response:
        log.warning("connection pool exhausted", extra=_request_fields())
        request.environ[UNAVAILABLE_KEY] = "pool_timeout"
        return error_response(503, retry_after=retry_after)

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError) -> Response:
        if error.connection_invalidated or _is_connection_error(error):
            log.warning("database unavailable: %s", error.orig, extra=_request_fields())
            request.environ[UNAVAILABLE_KEY] = "db_unavailable"
            return error_response(503, retry_after=retry_after)
        report_unexpected(app, error)
        return error_response(500)

    # HTTPExceptions never get here: Flask hands them to the more specific handler above.
    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        if _is_connect_failure(error):
            log.warning("database unreachable: %r", error, extra=_request_fields())
            request.environ[UNAVAILABLE_KEY] = "db_unavailable"
            return error_response(503, retry_after=retry_after)
        report_unexpected(app, error)
        return error_response(InternalServerError.code)


def report_unexpected(app: Flask, error: BaseException) -> None:
    """Log ``error`` with its traceback and the request id, and send ``got_request_exception``
    (once per exception) as Flask does for an exception no handler catches."""
    log.error("unhandled error", exc_info=error, extra=_request_fields())
    got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=error)


#: SQLSTATEs meaning "the server is not there for you right now": connection exceptions (08...),
#: admin/crash shutdown and "cannot connect now" while starting or stopping (57P01-57P03), and
#: too many connections (53300).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def _is_connection_error(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    if sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    text = f"{type(error.orig).__name__} {error.orig}".lower()
    return any(
        word in text
        for word in (
            "connection",
            "closed",
            "shutdown",
            "shutting down",
            "starting up",
            "cannot connect",
            "terminat",
            "admin",
        )
    )


def _is_connect_failure(error: BaseException) -> bool:
    """An OS-level error raised while asyncpg opened a connection (server down: socket file
    missing, connection refused). asyncpg raises these unwrapped, so SQLAlchemy cannot turn
    them into a DBAPIError; they mean "database unavailable", not a bug in the view."""
    if not isinstance(error, OSError):
        return False
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_globals.get("__name__", "").startswith("asyncpg.connect"):
            return True
        traceback = traceback.tb_next
    return False


def _request_fields() -> dict[str, Any]:
    return {"request_id": request.environ.get(REQUEST_ID_KEY), "path": request.path}
