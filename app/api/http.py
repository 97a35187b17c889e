"""Request and response plumbing shared by the API views: JSON bodies, validation errors,
conditional GETs. Every refusal is an :class:`ApiError`, rendered as the
:class:`~.responses.Error` model ``{"error": ..., "status": ..., "fields": {...}}``, the shape
:func:`app.web.errors.error_response` gives the errors raised outside the views (404, 405,
429...)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from flask import Response, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from ..web import parsing
from ..web.errors import MESSAGES
from .responses import Error

M = TypeVar("M", bound=BaseModel)

JSON_TYPES = ("application/json",)
PATCH_TYPES = ("application/json", "application/merge-patch+json")


class ApiError(Exception):
    """A client error with a status, a message, per-field messages and extra headers."""

    def __init__(self, status: int, message: str | None = None, *,
                 fields: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message or str(status))
        self.status = status
        self.message = message
        self.fields = fields
        self.headers = headers or {}

    def response(self) -> Response:
        body = Error(error=self.message or MESSAGES.get(self.status, "Error"),
                     status=self.status, fields=self.fields)
        response = json_response(body.model_dump(mode="json", exclude_none=True), self.status)
        response.headers.update(self.headers)
        return response


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json(allowed_types: tuple[str, ...] = JSON_TYPES) -> dict[str, Any]:
    """The request body as a JSON object: 415 for another content type, 400 if it is not JSON
    (including invalid UTF-8, NaN and Infinity), 422 if it is JSON but not an object."""
    if request.mimetype not in allowed_types:
        raise ApiError(415, f"Send the body as {' or '.join(allowed_types)}.")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(415, "JSON bodies must be UTF-8.")
    raw = request.get_data(cache=True)  # 413 via MAX_CONTENT_LENGTH if it is too big
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ApiError(400, f"The body is not valid JSON: {_json_problem(error)}") from None
    if not isinstance(data, dict):
        raise ApiError(422, "The body must be a JSON object.", fields={})
    try:
        unstorable = {str(key): UNSTORABLE for key, value in data.items()
                      if not _storable(key) or not _storable(value)}
    except RecursionError:
        raise ApiError(400, "The body is not valid JSON: it is nested too deeply") from None
    if unstorable:
        raise ApiError(422, "Some fields need attention.", fields=unstorable)
    return data


UNSTORABLE = "Text cannot contain NUL characters or unpaired surrogates (\\u0000, \\ud800)."


def _storable(value: Any) -> bool:
    """Whether every string in ``value`` (a parsed JSON value) is text PostgreSQL can store:
    JSON's ``\\u0000`` and lone ``\\ud800`` escapes decode to strings it refuses."""
    if isinstance(value, str):
        return parsing.storable(value)
    if isinstance(value, dict):
        return all(_storable(key) and _storable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_storable(item) for item in value)
    return True


def _json_problem(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "it is not UTF-8"
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno} column {error.colno}"
    return str(error)


def validate(model: type[M], data: dict[str, Any]) -> M:
    """``model`` validated from ``data``, or a 422 naming each invalid field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ApiError(422, "Some fields need attention.", fields=field_errors(error)) from None


def field_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic errors as ``{"field.path": "message"}`` (first message per field)."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "Unknown field."
        fields.setdefault(location, message)
    return fields


def json_response(payload: BaseModel | Mapping[str, Any], status: int = 200) -> Response:
    """``payload`` (a response model, or a mapping that may hold models) as JSON."""
    response = jsonify(to_jsonable_python(payload))
    response.status_code = status
    return response


def body_etag(response: Response) -> str:
    """A weak validator for a representation without its own version (lists)."""
    return hashlib.sha256(response.get_data()).hexdigest()[:32]


def conditional(response: Response, *, etag: str | None = None, weak: bool = False,
                last_modified: Any = None) -> Response:
    """Add validators and answer 304 when the client's copy is current.

    ``If-None-Match`` wins over ``If-Modified-Since`` (Werkzeug applies RFC 9110's order).
    """
    if etag is None:
        etag, weak = body_etag(response), True
    response.set_etag(etag, weak=weak)
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers.setdefault("Cache-Control", "no-cache")
    response.make_conditional(request)  # turns ``response`` itself into a 304 when current
    return response
