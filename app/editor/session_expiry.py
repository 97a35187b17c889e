"""A row save after the session ended: sign in again in the row, without losing what was typed.

When the session of an open editor page has ended (signed out in another tab, the session
revoked), saving a row is refused before anything is written - by the role check (401) or, when
the sign-out took the CSRF token with it, by the CSRF check. Instead of a generic error, the row
becomes a sign-in form (:func:`signed_out_row`, registered with
:func:`app.auth.expiry.on_session_expired`) that carries the submitted values as hidden fields
(never the password back: it is not among them) and a fresh CSRF token. Signing in there
(:func:`resume`) re-renders the row form with those values filled in and the version the editor
started from, so the editor checks and saves, and a colleague's change meanwhile still shows as
a conflict rather than being overwritten.
"""

from __future__ import annotations

from flask import Response, g, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from ..auth.expiry import on_session_expired
from ..auth.sessions import current_user
from ..auth.signin import attempt_sign_in
from ..data.database import get_session
from ..data.lookups import get_or_404
from ..data.models import Product
from ..data.products import WITH_CATEGORY
from ..web.limits import limit_blueprint
from .blueprint import bp
from .forms import ProductRowForm
from .rendering import page_or_fragment
from .rows import row_form_response

ROW_PAGE = "editor/product.html"
SIGN_IN_ROW = "partials/editor/row_signin.html"
#: The row form's fields a sign-in row carries (what the editor typed, and where they were).
CARRIED = ("name", "price", "stock", "category_id", "is_active", "brand", "colour", "material",
           "size", "version", "next")
ENDED = ("Nothing was saved. Sign in again to get back to your "
         "changes: what you typed is kept.")

__all__ = ["resume", "resume_new", "signed_out_row"]

# Signing in here counts against the same per-address limit as the sign-in page.
limit_blueprint(bp, "RATELIMIT_LOGIN", scope="login", methods=["POST"],
                endpoints={"editor.resume", "editor.resume_new"},
                error_message="Too many sign-in attempts.")


def _carried() -> list[tuple[str, str]]:
    return [(name, value[:2000]) for name in CARRIED for value in request.form.getlist(name)]


def _sign_in_row(key: int | str, values: list[tuple[str, str]], *, status: int = 401,
                 error: str | None = None, email: str = "") -> Response:
    resume_url = (url_for("editor.resume", product_id=key) if isinstance(key, int)
                  else url_for("editor.resume_new"))
    name = next((value for field, value in values if field == "name"), "")
    return page_or_fragment(ROW_PAGE, SIGN_IN_ROW, status=status, key=key, values=values,
                            resume_url=resume_url, error=error, email=email, message=ENDED,
                            title=name or "Sign in again")


@on_session_expired("editor.save_row", "editor.create")
def signed_out_row() -> ResponseReturnValue:
    """The answer to a row save whose session has ended: the sign-in row."""
    product_id = (request.view_args or {}).get("product_id")
    return _sign_in_row(product_id if isinstance(product_id, int) else "new", _carried())


async def _resume(key: int | str) -> ResponseReturnValue:
    """Signed in already (in another tab), or signing in now: the row form with the values."""
    values = _carried()
    session = await get_session()
    if await current_user() is None:
        email = (request.form.get("email") or "")[:254]
        outcome = await attempt_sign_in(email, request.form.get("password") or "")
        if not outcome.ok:
            response = _sign_in_row(key, values, status=outcome.status, error=outcome.message,
                                    email=email)
            if outcome.retry_after is not None:
                response.headers["Retry-After"] = str(outcome.retry_after)
            return response
        await session.commit()
    user = await current_user()
    if user is None or user.role not in ("editor", "admin"):  # pragma: no cover - all roles edit
        return _sign_in_row(key, values, status=403, error="This account may not edit products.")
    g.user = user
    form = ProductRowForm(formdata=MultiDict(values))
    product = None
    if isinstance(key, int):
        product = await get_or_404(session, Product, key, load=WITH_CATEGORY, fresh=True)
    version = next((int(v) for f, v in values if f == "version" and v.isdigit()), None)
    notice = {"text": f"Signed in again as {user.email}. What you typed is back in the row: "
                      "check it and save.", "csrf_token": generate_csrf()}
    return await row_form_response(form, product=product, version=version, notice=notice)


@bp.post("/products/<id64:product_id>/resume")
async def resume(product_id: int) -> ResponseReturnValue:
    """Sign in from the sign-in row of a product, then show its row form with the values."""
    return await _resume(product_id)


@bp.post("/products/resume")
async def resume_new() -> ResponseReturnValue:
    """Sign in from the sign-in row of a new product, then show the new row form again."""
    return await _resume("new")

