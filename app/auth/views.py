"""``/auth/login`` (GET form, POST) and ``/auth/logout`` (POST)."""

from __future__ import annotations

from flask import Response, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from ..data.database import get_session
from ..data.users import check_credentials
from ..web import parsing
from ..web.errors import error_response
from .blueprint import bp
from .forms import LoginForm
from .redirects import safe_next
from .sessions import current_user, sign_in, sign_out
from .throttle import get_throttle

#: One message for every wrong combination: it never says which part was wrong.
BAD_CREDENTIALS = "That email and password do not match an active account."
LOCKED = ("Too many failed sign-in attempts. Please wait {minutes} before trying again.")
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
    email = (form.email.data or "").strip()
    address = request.remote_addr or "unknown"
    throttle = get_throttle()
    state = await throttle.check(email, address)
    if not state.allowed:
        minutes = max(1, round(state.retry_after / 60))
        message = LOCKED.format(minutes=f"{minutes} minute{'s' if minutes != 1 else ''}")
        response = _render(form, 429, message)
        response.headers["Retry-After"] = str(state.retry_after)
        return response

    db = await get_session()
    # An address PostgreSQL cannot store (a NUL) names no account: the same refusal, no query.
    user = (await check_credentials(db, email, form.password.data or "")
            if parsing.storable(email) else None)
    if user is None:
        await throttle.record_failure(email, address)
        form.password.data = ""
        return _render(form, 401, BAD_CREDENTIALS)

    await throttle.record_success(email)
    await sign_in(db, user.id)
    await db.commit()
    return redirect(safe_next(form.next.data, _default_next()))


@bp.post("/logout")
async def logout() -> ResponseReturnValue:
    db = await get_session()
    await sign_out(db)
    await db.commit()
    flash("You have signed out.", "ok")
    return redirect(url_for("auth.login"))


@bp.app_errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> ResponseReturnValue:
    """A missing or wrong CSRF token: 400, nothing done, a message the user can act on."""
    return error_response(400, CSRF_MESSAGE)
