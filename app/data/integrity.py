"""Which constraint refused a write: the name PostgreSQL reports with an integrity error, so a
caller can turn a race it lost (a unique index, a foreign key, a trigger's check) into the same
message for people that its own check gives when there is no race."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError


def violated_constraint(error: DBAPIError) -> str | None:
    """The constraint (or index) named by the driver's error, if any.

    asyncpg puts ``constraint_name`` on its own exception, which SQLAlchemy's adapter keeps as
    the cause of ``error.orig``.
    """
    candidate: BaseException | None = error.orig
    while candidate is not None:
        name = getattr(candidate, "constraint_name", None)
        if isinstance(name, str) and name:
            return name
        candidate = candidate.__cause__
    return None
