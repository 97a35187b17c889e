"""What a request gets when its session has ended while a page was still open (signed out in
another tab, the session revoked, the password changed): never the generic "form expired", but
"your session has ended", and a way to sign in again.

Views whose requests carry typed work (an editor's row form) register a renderer for their
endpoint with :func:`on_session_expired`; it answers in place with a sign-in form that carries
the submitted values, so nothing typed is lost (:mod:`app.editor.session_expiry`). Every other
endpoint gets the message, with a link to the sign-in page that comes back to the page the
editor was on. The registry is filled when the views are imported; it holds endpoint names,
so one registry serves every app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..web.htmx import is_htmx, retarget_to_messages
from .redirects import safe_next

SIGN_IN_AGAIN = "Your session has ended. Please sign in again (your change was not saved)."

Renderer = Callable[[], ResponseReturnValue]
R = TypeVar("R", bound=Renderer)
_renderers: dict[str, Renderer] = {}


def on_session_expired(*endpoints: str) -> Callable[[R], R]:
    """Register the decorated function as the answer for ``endpoints`` when the session ended."""

    def register(renderer: R) -> R:
        for endpoint in endpoints:
            _renderers[endpoint] = renderer
        return renderer

    return register


def _page_url() -> str:
    """The page the editor was on (htmx says which), to come back to after signing in."""
    current = urlsplit(request.headers.get("HX-Current-URL", "") if is_htmx()
                       else request.headers.get("Referer", ""))
    path = current.path + (f"?{current.query}" if current.query else "")
    return safe_next(path, url_for("editor.products"))


def session_expired_response() -> ResponseReturnValue:
    """401 for a request whose session has ended (see the module docstring)."""
    renderer = _renderers.get(request.endpoint or "")
    if renderer is not None:
        return renderer()
    login_url = url_for("auth.login", next=_page_url())
    if is_htmx():
        return retarget_to_messages(make_response(render_template(
            "partials/auth/session_ended.html", message=SIGN_IN_AGAIN, login_url=login_url), 401))
    if request.method == "GET":
        return redirect(login_url)
    return make_response(render_template(
        "auth/session_ended.html", message=SIGN_IN_AGAIN, login_url=login_url), 401)
