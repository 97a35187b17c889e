"""An OpenAPI 3.1 document generated from a table of operations and their Pydantic models.

Each :class:`Operation` names its path, method and view, the models of its parameters (path,
query, header) and body, and per status code a :class:`Reply` with the response model and
headers. :func:`build_document` turns the table into the document: every model's JSON Schema
(request models in validation mode, response models in serialization mode) goes to
``components/schemas`` under its class name, parameters come from the models' fields. Nothing
here knows the Vitrine API; :mod:`.openapi` holds its table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

REF = "#/components/schemas/{model}"
JSON = "application/json"
Security = Sequence[Mapping[str, Sequence[str]]]


@dataclass(frozen=True)
class Reply:
    """One documented response: what it means, its body model (None: no body), its headers
    (names from the headers model given to :func:`build_document`)."""

    description: str
    model: type[BaseModel] | None = None
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  #: OpenAPI template, e.g. ``/products/{ref}``
    endpoint: str  #: the Flask endpoint that serves it (checked against the URL map in tests)
    operation_id: str
    summary: str
    responses: Mapping[int, Reply]
    security: Security
    path_params: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_types: tuple[str, ...] = (JSON,)


class _Components:
    """The schemas collected while the operations are written out."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self.models: dict[str, type[BaseModel]] = {}

    def schema(self, model: type[BaseModel],
               mode: Literal["validation", "serialization"]) -> dict[str, Any]:
        """``model``'s schema, its nested models moved to the components."""
        schema = model.model_json_schema(ref_template=REF, mode=mode)
        for name, nested in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, _without_null_defaults(nested))
        return _without_null_defaults(schema)

    def ref(self, model: type[BaseModel],
            mode: Literal["validation", "serialization"]) -> dict[str, str]:
        known = self.models.setdefault(model.__name__, model)
        if known is not model:
            raise ValueError(f"two models named {model.__name__}: {known} and {model}")
        if model.__name__ not in self.schemas:
            self.schemas[model.__name__] = self.schema(model, mode)
        return {"$ref": REF.format(model=model.__name__)}

    def parameters(self, model: type[BaseModel], location: str) -> list[dict[str, Any]]:
        """One parameter per field (its alias is the name), absent when not required."""
        schema = self.schema(model, "validation")
        required = set(schema.get("required", ()))
        parameters = []
        for name, prop in schema["properties"].items():
            prop = _not_null(dict(prop))
            description = prop.pop("description", None)
            for key in ("title", "default"):
                prop.pop(key, None)
            parameter: dict[str, Any] = {"name": name, "in": location,
                                         "required": location == "path" or name in required,
                                         "schema": prop}
            if description:
                parameter["description"] = description
            if prop.get("type") == "array":
                parameter["explode"] = True  # ?brand=a&brand=b
            parameters.append(parameter)
        return parameters


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter cannot be null, only absent: ``anyOf: [X, null]`` is X."""
    branches = schema.get("anyOf")
    if branches and len(branches) == 2 and {"type": "null"} in branches:
        rest = {key: value for key, value in schema.items() if key != "anyOf"}
        return rest | next(b for b in branches if b != {"type": "null"})
    return schema


def _without_null_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop ``"default": null`` from fields that may not be null (PATCH bodies: a field left
    out is unchanged, an explicit null is refused), where it would mislead a client."""
    for prop in schema.get("properties", {}).values():
        nullable = "null" in str(prop.get("type")) or {"type": "null"} in prop.get("anyOf", ())
        if "default" in prop and prop["default"] is None and not nullable:
            del prop["default"]
    return schema


def build_document(*, info: Mapping[str, Any], servers: Sequence[Mapping[str, Any]],
                   operations: Sequence[Operation], headers: type[BaseModel],
                   security_schemes: Mapping[str, Any]) -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        item: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
        parameters = []
        for model, location in ((op.path_params, "path"), (op.query, "query"),
                                (op.headers, "header")):
            if model is not None:
                parameters += components.parameters(model, location)
        if parameters:
            item["parameters"] = parameters
        if op.body is not None:
            body = components.ref(op.body, "validation")
            item["requestBody"] = {"required": True,
                                   "content": {kind: {"schema": body} for kind in op.body_types}}
        item["responses"] = {str(status): _reply(reply, components)
                             for status, reply in sorted(op.responses.items())}
        item["security"] = [dict(requirement) for requirement in op.security]
        paths.setdefault(op.path, {})[op.method.lower()] = item
    header_schema = headers.model_json_schema(mode="serialization")
    unknown = {name for op in operations for reply in op.responses.values()
               for name in reply.headers} - set(header_schema["properties"])
    if unknown:
        raise ValueError(f"response headers missing from {headers.__name__}: {sorted(unknown)}")
    return {
        "openapi": "3.1.0",
        "info": dict(info),
        "servers": [dict(server) for server in servers],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": dict(security_schemes),
            "headers": {name: _header(prop)
                        for name, prop in header_schema["properties"].items()},
        },
    }


def _reply(reply: Reply, components: _Components) -> dict[str, Any]:
    response: dict[str, Any] = {"description": reply.description}
    if reply.model is not None:
        response["content"] = {JSON: {"schema": components.ref(reply.model, "serialization")}}
    if reply.headers:
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"}
                               for name in reply.headers}
    return response


def _header(prop: Mapping[str, Any]) -> dict[str, Any]:
    schema = {key: value for key, value in prop.items() if key not in ("title", "description")}
    header: dict[str, Any] = {"schema": schema}
    if "description" in prop:
        header["description"] = prop["description"]
    return header
