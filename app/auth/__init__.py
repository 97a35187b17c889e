"""Sign-in, sign-out and role checks for editors and admins.

* :mod:`.blueprint` - the blueprint, its sign-in rate limit and the throttle's setup
* :mod:`.views` - ``/auth/login``, ``/auth/logout``, the CSRF refusal page
* :mod:`.sessions` - the session cookie and who is signed in (``current_user``)
* :mod:`.access` - ``editor_required`` / ``admin_required`` for views
* :mod:`.throttle` - locking accounts and addresses after repeated failed sign-ins
"""

from . import views  # noqa: F401 - registers the routes on bp
from .blueprint import bp

__all__ = ["bp"]
