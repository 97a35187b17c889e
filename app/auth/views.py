"""``/auth/login`` (GET form, POST) and ``/auth/logout`` (POST); a refused CSRF token."""

from __future__ import annotations

from flask import Response, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from ..data.database import get_session
from ..web.errors import error_response
from .blueprint import bp
from .expiry import session_expired_response
from .forms import LoginForm
from .redirects import safe_next
from .sessions import current_user, sign_out
from .signin import BAD_CREDENTIALS, LOCKED, attempt_sign_in

__all__ = ["BAD_CREDENTIALS", "CSRF_MESSAGE", "LOCKED"]

CSRF_MESSAGE = ("This form has expired or did not come from this site, so nothing was changed. "
                "Reload the page and try again.")


def _default_next() -> str:
    return url_for("editor.products")


def _render(form: LoginForm, status: int = 200, error: str | None = None) -> Response:
    return make_response(render_template("auth/login.html", form=form, error=error), status)


@bp.route("/login", methods=["GET", "POST"])
async def login() -> ResponseReturnValue:
    form = LoginForm()
    if request.method == "GET":
        if await current_user() is not None:
            return redirect(safe_next(request.args.get("next"), _default_next()))
        form.next.data = safe_next(request.args.get("next"), "")
        return _render(form)

    if not form.validate_on_submit():
        return _render(form, 422)
    outcome = await attempt_sign_in(form.email.data or "", form.password.data or "")
    if not outcome.ok:
        form.password.data = ""
        response = _render(form, outcome.status, outcome.message)
        if outcome.retry_after is not None:
            response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    await (await get_session()).commit()
    return redirect(safe_next(form.next.data, _default_next()))


@bp.post("/logout")
async def logout() -> ResponseReturnValue:
    db = await get_session()
    await sign_out(db)
    await db.commit()
    flash("You have signed out.", "ok")
    return redirect(url_for("auth.login"))


@bp.app_errorhandler(CSRFError)
async def csrf_refused(error: CSRFError) -> ResponseReturnValue:
    """A missing or wrong CSRF token: nothing done. In the editor, with no one signed in, the
    token went with the session (signed out in another tab, or the session was ended): the
    editor is told so and can sign in again without losing what they typed. Otherwise 400 with a
    message the user can act on."""
    if request.blueprint == "editor" and await current_user() is None:
        return session_expired_response()
    return error_response(400, CSRF_MESSAGE)
