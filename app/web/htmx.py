"""One view, two renderings: the full page for a browser, the fragment for an htmx request."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    """True for a request sent by htmx (and not a history-restore, which wants the full page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page_or_partial(
    page: str, partial: str, *, status: int = 200, **context: Any
) -> Response:
    """Render ``partial`` for htmx and ``page`` otherwise; the page must include the partial.

    ``Vary: HX-Request`` is added to every response by :func:`add_vary_header`, so caches never
    serve a fragment where a page was asked for.
    """
    template = partial if is_htmx() else page
    return make_response(render_template(template, **context), status)


def add_vary_header(response: Response) -> Response:
    """``after_request``: the same URL answers differently to htmx, so say so to caches."""
    if not request.path.startswith("/static/"):
        response.vary.add("HX-Request")
    return response


#: The page region every page has for notices and errors (``templates/base.html``).
MESSAGES_REGION = "#messages"


def retarget_to_messages(response: Response) -> Response:
    """Make htmx put this response into the page's message region instead of the element that
    asked (an error or a question must never be swapped into, say, a table row)."""
    response.headers["HX-Retarget"] = MESSAGES_REGION
    response.headers["HX-Reswap"] = "innerHTML"
    return response
