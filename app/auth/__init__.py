"""Sign-in, sign-out and role checks for editors and admins.

* :mod:`.views` - ``/auth/login``, ``/auth/logout``, the CSRF refusal page
* :mod:`.sessions` - the session cookie and who is signed in (``current_user``)
* :mod:`.access` - ``editor_required`` / ``admin_required`` for views
* :mod:`.throttle` - locking accounts and addresses after repeated failed sign-ins
* :mod:`.passwords` - Argon2id hashing off the event loop
"""

from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.record_once
def _init_throttle(state) -> None:
    from .throttle import init_app

    init_app(state.app)


from . import views  # noqa: E402,F401
