"""The OpenAPI 3.1 document of the provisioning API, built from the declared operations.

Served at ``/api/v1/openapi.json``. Schemas come from the operations' Pydantic models (JSON Schema
2020-12, which OpenAPI 3.1 uses as it is); every error is a problem document (RFC 9457).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from idp.api.auth import SCOPES
from idp.api.blueprint import bp
from idp.api.operations import OPERATIONS, Operation
from idp.api.problems import PROBLEM_TYPE
from idp.connectors import registry
from idp.links import external_url

RULE_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
REF = "#/components/schemas/{model}"
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "detail"],
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}


def openapi_path(rule: str) -> str:
    """``/organisations/<int:org_id>`` → ``/organisations/{org_id}``."""
    return RULE_PARAMETER.sub(lambda m: "{" + m.group(2) + "}", rule)


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0} if converter == "int" else {"type": "string"},
        }
        for converter, name in RULE_PARAMETER.findall(rule)
    ]


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value: drop the ``null`` branch of an optional one."""
    branches = schema.get("anyOf")
    if branches:
        kept = [branch for branch in branches if branch.get("type") != "null"]
        if len(kept) == 1:
            rest = {key: value for key, value in schema.items() if key != "anyOf"}
            return {**kept[0], **rest}
    return schema


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _not_null({k: v for k, v in prop.items() if k != "title"}),
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _responses(op: Operation, names: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    problem = {
        "description": "A problem (RFC 9457)",
        "content": {PROBLEM_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}},
    }
    headers = {"ETag": {"schema": {"type": "string"}}} if op.etag else {}
    if op.status == 204 or op.response is None:
        success: dict[str, Any] = {"description": "Done"}
    else:
        success = {
            "description": "Done",
            "content": {"application/json": {"schema": names[(op.response, "serialization")]}},
        }
    if headers:
        success["headers"] = headers
    responses: dict[str, Any] = {str(op.status): success, "default": problem}
    if op.etag and op.method == "GET":
        responses["304"] = {"description": "Not modified (If-None-Match)", "headers": headers}
    return responses


def _operation(
    op: Operation,
    path: str,
    body: type[BaseModel] | None,
    names: Mapping[Any, dict[str, Any]],
) -> dict[str, Any]:
    connector_id = path.split("/")[2] if op.per_connector else None
    document: dict[str, Any] = {
        "operationId": f"{op.name}_{connector_id}" if connector_id else op.name,
        "summary": op.summary,
        "tags": [op.tag],
        "security": [{"clientCredentials": [op.scope]}],
        "parameters": _path_parameters(op.rule) + _query_parameters(op.query),
        "responses": _responses(op, names),
    }
    if op.description:
        document["description"] = op.description
    if op.method == "POST":
        document["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "A retried request with the same key does its work once.",
            }
        )
    if op.etag and op.method in ("PATCH", "PUT"):
        document["parameters"].append(
            {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"}}
        )
    if body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": names[(body, "validation")]}},
        }
    return document


def _expanded() -> list[tuple[Operation, str, type[BaseModel] | None]]:
    """(operation, its OpenAPI path, its body model): an operation of every connector is one path
    per connector that can be provisioned, with that connector's model."""
    expanded: list[tuple[Operation, str, type[BaseModel] | None]] = []
    for op in OPERATIONS:
        if not op.per_connector:
            expanded.append((op, openapi_path(op.rule), op.body))
            continue
        for connector_id, connector in sorted(registry.installed().items()):
            if connector.provisioning is not None:
                path = openapi_path(op.rule.replace("<connector>", connector_id))
                expanded.append((op, path, connector.provisioning))
    return expanded


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    operations = _expanded()
    models: list[tuple[type[BaseModel], Any]] = []
    for op, _path, body in operations:
        if body is not None:
            models.append((body, "validation"))
        if op.response is not None:
            models.append((op.response, "serialization"))
    names, definitions = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    schemas = dict(definitions.get("$defs", {}))
    schemas["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for op, path, body in operations:
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, path, body, names)
    issuer = current_app.config["IDP_ISSUER"].rstrip("/")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Business ID provisioning API",
            "version": "1",
            "description": "Organisations, their service accounts, people, invitations, access, "
            "profiles and the audit log, for the operator's systems. Authorise with an access "
            "token from the client_credentials grant.",
        },
        "servers": [{"url": issuer + "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "clientCredentials": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {"tokenUrl": external_url("oauth.token"), "scopes": SCOPES}
                    },
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI document (public: it describes the API, never its data)."""
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
