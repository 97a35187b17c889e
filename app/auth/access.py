"""Role checks for views: ``@editor_required`` (editors and admins) and ``@admin_required``.

Checked on the server for every request. Who is refused, and how:

* nobody signed in, full page ``GET``: redirect to ``/auth/login?next=<this page>``;
* nobody signed in, htmx request or a form post: 401 through
  :func:`.expiry.session_expired_response`: "your session has ended" in the ``#messages`` region
  with a link to sign in again (a sign-in page is never swapped into a table row), or, for a view
  that registered one (the editor's row save), a sign-in form in place that keeps what was typed;
* signed in with a role that may not do this: 403, the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ..web.errors import error_response
from ..web.htmx import is_htmx
from .expiry import SIGN_IN_AGAIN, session_expired_response
from .sessions import current_user

F = TypeVar("F", bound=Callable[..., Awaitable[ResponseReturnValue]])

__all__ = ["SIGN_IN_AGAIN", "admin_required", "editor_required", "roles_required"]


def login_redirect() -> ResponseReturnValue:
    # ``next`` is a URL the browser follows, so it keeps the prefix the app is mounted at.
    target = request.script_root + (request.full_path if request.query_string else request.path)
    return redirect(url_for("auth.login", next=target))


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let the view run only for a signed-in user whose role is in ``roles``; the user is
    available as ``g.user`` (a :class:`~app.auth.sessions.CurrentUser`)."""

    def decorator(view: F) -> F:
        @wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            user = await current_user()
            if user is None:
                if request.method == "GET" and not is_htmx():
                    return login_redirect()
                return session_expired_response()
            if user.role not in roles:
                return error_response(403, "You do not have permission to do that.")
            g.user = user
            return await view(*args, **kwargs)

        # ``wraps`` keeps the view's name and signature, so the wrapper is used as the view.
        return cast(F, wrapper)

    return decorator


editor_required = roles_required("editor", "admin")
admin_required = roles_required("admin")
