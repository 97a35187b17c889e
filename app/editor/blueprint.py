"""The ``editor`` blueprint and the id converters its URLs use. Views import it from here (not
from the package, which imports the views)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import IntegerConverter, Map

from ..data.bounds import MAX_BIGINT, MAX_INT

bp = Blueprint("editor", __name__)


class Id64(IntegerConverter):
    """A positive ``bigint`` id in a URL; anything larger is a 404, never a database error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - Werkzeug's
        super().__init__(map, min=1, max=MAX_BIGINT)


class Id32(IntegerConverter):
    """A positive ``integer`` id (categories, users)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        super().__init__(map, min=1, max=MAX_INT)


@bp.record_once
def _add_converters(state: BlueprintSetupState) -> None:
    """Runs before the routes below are added to the URL map, which needs the converters."""
    state.app.url_map.converters.setdefault("id64", Id64)
    state.app.url_map.converters.setdefault("id32", Id32)

