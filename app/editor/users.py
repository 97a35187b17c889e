"""Admins manage users: create, change role, deactivate/reactivate.

There is always at least one active admin: the last one cannot be demoted or deactivated (not
even by themselves). Concurrent changes are serialised by locking the active admins' rows.
A role change or deactivation ends the user's sessions (see app/auth/sessions.py); an admin
who changes their own role gets a fresh session so they are not signed out by it.
"""

from __future__ import annotations

from flask import abort, g, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.access import admin_required
from ..auth.sessions import end_all_sessions, sign_in
from ..data.database import get_session
from ..data.models import User
from ..data.users import UserError, create_user
from ..web.htmx import is_htmx
from . import bp
from .forms import RoleForm, UserCreateForm
from .rendering import done, page_or_fragment

LAST_ADMIN = "There must always be at least one active admin, so this change was refused."


class UserRefused(Exception):
    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


async def _render(*, status: int = 200, notice: dict | None = None, errors: dict | None = None,
                  create_form: UserCreateForm | None = None) -> ResponseReturnValue:
    users = (await (await get_session()).scalars(
        select(User).order_by(User.is_active.desc(), User.email))).all()
    return page_or_fragment("editor/users.html", "partials/editor/users.html", status=status,
                            notice=notice, users=users, errors=errors or {},
                            create_form=create_form or UserCreateForm(formdata=None))


def _finish(notice: str) -> ResponseReturnValue | None:
    return None if is_htmx() else done(notice, url_for("editor.users"))


async def _lock_user_and_admins(session: AsyncSession, user_id: int) -> tuple[User, list[int]]:
    active_admins = list((await session.scalars(
        select(User.id).where(User.role == "admin", User.is_active.is_(True))
        .order_by(User.id).with_for_update())).all())
    user = await session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None:
        abort(404, "That user does not exist (any more).")
    return user, active_admins


@bp.get("/users")
@admin_required
async def users() -> ResponseReturnValue:
    return await _render()


@bp.post("/users")
@admin_required
async def create_user_view() -> ResponseReturnValue:
    session = await get_session()
    form = UserCreateForm(formdata=request.form)
    try:
        if not form.validate():
            raise UserRefused("new", next(iter(form.errors.values()))[0])
        user = await create_user(session, form.email.data or "", form.password.data or "",
                                 form.role.data or "editor")
        await session.commit()
    except (UserRefused, UserError) as error:
        await session.rollback()
        message = error.message if isinstance(error, UserRefused) else str(error)
        form.password.data = ""
        return await _render(status=422, errors={"new": message[:1].upper() + message[1:]},
                             create_form=form)
    notice = f"Created the {user.role} {user.email}."
    return _finish(notice) or await _render(notice={"text": notice})


@bp.post("/users/<id32:user_id>/role")
@admin_required
async def change_role(user_id: int) -> ResponseReturnValue:
    session = await get_session()
    form = RoleForm(formdata=request.form)
    if not form.validate():
        return await _render(status=422, errors={str(user_id): "Choose editor or admin."})
    user, admins = await _lock_user_and_admins(session, user_id)
    if user.role == form.role.data:
        notice = f"{user.email} is already an {user.role}."
        await session.rollback()
        return _finish(notice) or await _render(notice={"text": notice})
    if user.id in admins and len(admins) == 1:
        await session.rollback()
        return await _render(status=409, errors={str(user_id): LAST_ADMIN})
    user.role = form.role.data
    await session.flush()
    await end_all_sessions(session, user.id)
    if user.id == g.user.id:
        await sign_in(session, user.id)  # keep the admin who demoted themselves signed in
    await session.commit()
    notice = f"{user.email} is now an {user.role}."
    return _finish(notice) or await _render(notice={"text": notice})


@bp.post("/users/<id32:user_id>/active")
@admin_required
async def set_user_active(user_id: int) -> ResponseReturnValue:
    wanted = request.form.get("is_active")
    if wanted not in ("0", "1"):
        abort(400, "Say whether the user should be active.")
    session = await get_session()
    user, admins = await _lock_user_and_admins(session, user_id)
    if wanted == "0" and user.id in admins and len(admins) == 1:
        await session.rollback()
        return await _render(status=409, errors={str(user_id): LAST_ADMIN})
    user.is_active = wanted == "1"
    await session.flush()
    if not user.is_active:
        await end_all_sessions(session, user.id)
    await session.commit()
    notice = f"{user.email} is {'active again' if user.is_active else 'deactivated'}."
    if not user.is_active and user.id == g.user.id:
        return done(notice, url_for("auth.login"))
    return _finish(notice) or await _render(notice={"text": notice})
