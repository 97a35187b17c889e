"""Route-level body allowances: a view that needs a larger request body than the app-wide
``MAX_CONTENT_LENGTH`` says so, and both the ASGI adapter and Werkzeug's form parser honour it.

The adapter reads a whole body before Flask routes the request (:mod:`.bodies`), so the
allowance has to be known from the request line alone. A view declares it::

    @bp.post("/products/<id64:product_id>/images")
    @body_allowance(lambda config: config["IMAGE_MAX_BYTES"] + 64 * 1024)
    @editor_required
    async def upload(product_id): ...

* **Bounded.** The allowance is a number of bytes computed from the config (never "no limit"),
  and :data:`MAX_ALLOWANCE` caps it whatever the config says.
* **Only for requests with credentials** (a session cookie or ``Authorization``, checked for
  presence by the adapter, validated by the view's own role check): an anonymous client posting
  to the same URL is held to the app-wide limit, so the larger allowance cannot be used to pin a
  worker's memory without signing in. The anonymous body budget still counts every byte.
* **Free for every other request.** The URL map is consulted only when a body is about to
  exceed the app-wide limit (its ``Content-Length`` says so, or its bytes do): a request within
  the limit never pays for the lookup.
* **Werkzeug agrees.** :class:`AllowanceRequest` (the app's ``request_class``) reports the
  matched view's allowance as ``max_content_length``, so form parsing after routing accepts
  the same body the adapter accepted (and the test client, which bypasses the adapter, gets the
  same limit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask, current_app
from flask.wrappers import Request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from .types import Scope

F = TypeVar("F", bound=Callable[..., Any])

#: The attribute a decorated view carries.
ATTRIBUTE = "vitrine_body_allowance"
#: No route may accept more than this, whatever its config computes (256 MB).
MAX_ALLOWANCE = 256 * 1024 * 1024

Allowance = Callable[[Mapping[str, Any]], int]


def body_allowance(limit: Allowance) -> Callable[[F], F]:
    """Let the decorated view receive bodies up to ``limit(app.config)`` bytes (see the module
    docstring). Put it above the role check so it marks the function Flask registers."""

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, limit)
        return view

    return mark


def view_allowance(app: Flask, endpoint: str | None) -> int | None:
    """The body allowance of ``endpoint``'s view (None: the app-wide limit applies)."""
    if endpoint is None:
        return None
    view = app.view_functions.get(endpoint)
    limit: Allowance | None = getattr(view, ATTRIBUTE, None)
    if limit is None:
        return None
    return max(1, min(int(limit(app.config)), MAX_ALLOWANCE))


class RouteAllowances:
    """Finds the allowance of the route a not-yet-routed ASGI request is for."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._adapter: MapAdapter | None = None

    def for_scope(self, scope: Scope, script_name: str, path_info: str) -> int | None:
        """The allowance of the view ``method path`` routes to, if it has one."""
        if self._adapter is None:
            # Host and scheme do not matter to Vitrine's rules; one adapter serves every request.
            self._adapter = self.app.url_map.bind("localhost", script_name=script_name or None)
        try:
            endpoint, _args = self._adapter.match(path_info, method=scope.get("method", "GET"))
        except HTTPException:  # 404, 405, or a redirect: no view, no allowance
            return None
        return view_allowance(self.app, str(endpoint))


class AllowanceRequest(Request):
    """Flask's request whose ``max_content_length`` is the matched view's allowance, if any."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.url_rule is not None and current_app:
            allowed = view_allowance(current_app, self.url_rule.endpoint)
            if allowed is not None:
                return allowed
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


__all__ = ["AllowanceRequest", "MAX_ALLOWANCE", "RouteAllowances", "body_allowance",
           "view_allowance"]
