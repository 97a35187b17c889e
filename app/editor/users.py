"""Admins manage users: create, change role, deactivate/reactivate.

The rules (always one active admin, sessions ended by a role change or a deactivation) live in
:mod:`app.data.users`; this module shows their refusals under the row they concern. An admin
who changes their own role gets a fresh session, so they are not signed out by it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import admin_required
from ..auth.sessions import sign_in
from ..data import users as service
from ..data.database import get_session
from ..data.lookups import get_or_404
from ..data.models import ROLES, User
from ..web.commands import once
from ..web.htmx import is_htmx
from .blueprint import bp
from .forms import RoleForm, UserCreateForm
from .rendering import done, page_or_fragment

#: Which form a message belongs under: the create form, or the row of one user.
NEW = "new"


async def _render(*, status: int = 200, notice: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None,
                  create_form: UserCreateForm | None = None) -> ResponseReturnValue:
    users = await service.list_users(await get_session())
    return page_or_fragment("editor/users.html", "partials/editor/users.html", status=status,
                            notice=notice, users=users, errors=errors or {},
                            create_form=create_form or UserCreateForm(formdata=None),
                            roles=ROLES, min_password_length=service.MIN_PASSWORD_LENGTH)


async def _finish(notice: str) -> ResponseReturnValue:
    return done(notice, url_for("editor.users")) if not is_htmx() else await _render(
        notice={"text": notice})


async def _refused(error: service.UserError, user_id: int) -> ResponseReturnValue:
    await (await get_session()).rollback()
    status = 409 if isinstance(error, service.LastAdmin) else 422
    return await _render(status=status, errors={str(user_id): str(error)})


async def _locked(user_id: int) -> tuple[User, list[int]]:
    """The user to change and the active admins' ids, all locked (admins first)."""
    session = await get_session()
    admins = await service.lock_active_admins(session)
    return await get_or_404(session, User, user_id, lock=True), admins


@bp.get("/users")
@admin_required
async def users() -> ResponseReturnValue:
    return await _render()


@bp.post("/users")
@admin_required
@once
async def create_user_view() -> ResponseReturnValue:
    session = await get_session()
    form = UserCreateForm(formdata=request.form)
    try:
        if not form.validate():
            raise service.UserError(next(iter(form.errors.values()))[0])
        user = await service.create_user(session, form.email.data or "",
                                         form.password.data or "", form.role.data or "editor")
    except service.UserError as error:
        await session.rollback()
        message = str(error)
        form.password.data = ""
        return await _render(status=422, errors={NEW: message[:1].upper() + message[1:]},
                             create_form=form)
    return await _finish(f"Created the {user.role} {user.email}.")


@bp.post("/users/<id32:user_id>/role")
@admin_required
@once
async def change_role(user_id: int) -> ResponseReturnValue:
    session = await get_session()
    form = RoleForm(formdata=request.form)
    if not form.validate():
        return await _render(status=422, errors={str(user_id): "Choose editor or admin."})
    user, admins = await _locked(user_id)
    try:
        changed = await service.change_role(session, user, form.role.data, active_admins=admins)
    except service.UserError as error:
        return await _refused(error, user_id)
    if not changed:
        notice = f"{user.email} is already an {user.role}."
        await session.rollback()  # expires ``user``: the notice is made first
        return await _finish(notice)
    if user.id == g.user.id:
        await sign_in(session, user.id)  # keep the admin who demoted themselves signed in
    return await _finish(f"{user.email} is now an {user.role}.")


@bp.post("/users/<id32:user_id>/active")
@admin_required
@once
async def set_user_active(user_id: int) -> ResponseReturnValue:
    wanted = request.form.get("is_active")
    if wanted not in ("0", "1"):
        abort(400, "Say whether the user should be active.")
    session = await get_session()
    user, admins = await _locked(user_id)
    try:
        await service.set_active(session, user, wanted == "1", active_admins=admins)
    except service.UserError as error:
        return await _refused(error, user_id)
    notice = f"{user.email} is {'active again' if user.is_active else 'deactivated'}."
    if not user.is_active and user.id == g.user.id:
        return done(notice, url_for("auth.login"))
    return await _finish(notice)
