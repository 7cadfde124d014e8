"""One decorator declares an API operation: its route, scope, models and answer.

``@operation("GET", "/organisations/<int:org_id>", scope="orgs:read", ...)`` registers the view on
the blueprint and in ``OPERATIONS``, from which ``idp.api.openapi`` builds the OpenAPI document,
so the document cannot drift from what is served. The runner authenticates the caller, checks the
scope, reads the query and the body into their models, runs POSTs once per ``Idempotency-Key``,
shapes the answer with the response model, adds an ETag where the operation has one, and writes
one audit record per call with the client as actor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, g, request
from flask_babel import gettext as _
from pydantic import BaseModel

from idp.api import idempotency
from idp.api.auth import Caller, authenticate, require
from idp.api.blueprint import bp
from idp.api.problems import Problem
from idp.api.validation import read_body, read_query
from idp.audit.services import record
from idp.extensions import db


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says of one operation."""

    method: str
    rule: str  # Flask's rule below /api/v1, e.g. /organisations/<int:org_id>
    name: str  # the view's name: operationId and endpoint
    scope: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    etag: bool
    description: str
    per_connector: bool = False  # the body is each connector's provisioning model


OPERATIONS: list[Operation] = []


@dataclass
class Reply:
    """A view's answer when it is more than a body: another status, a Location."""

    data: Any = None
    status: int | None = None
    location: str | None = None


def operation(
    method: str,
    rule: str,
    *,
    scope: str,
    summary: str,
    tag: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    etag: bool = False,
    per_connector: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare and register an API operation (see the module's docstring)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(
            method,
            rule,
            view.__name__,
            scope,
            summary,
            tag,
            body,
            query,
            response,
            status,
            etag,
            (view.__doc__ or "").strip(),
            per_connector,
        )
        OPERATIONS.append(op)

        def handle(**path: Any) -> Response:
            return _run(op, view, path)

        handle.__name__ = view.__name__
        bp.add_url_rule(rule, view.__name__, handle, methods=[method])
        return view

    return decorate


def _run(op: Operation, view: Callable[..., Any], path: dict[str, Any]) -> Response:
    caller = authenticate()
    g.audit_client = caller.client.client_id  # every audit record of this call names the client
    require(caller, op.scope)
    arguments = dict(path)
    if op.query is not None:
        arguments["query"] = read_query(op.query)
    if op.body is not None:
        arguments["body"] = read_body(op.body)

    def work() -> Response:
        return _answer(op, view(caller, **arguments))

    try:
        response = idempotency.once(caller.client.client_id, work) if op.method == "POST" else work()
    except Problem as problem:
        db.session.rollback()
        _audit(caller, problem.status)
        raise
    _audit(caller, response.status_code)
    return response


def _answer(op: Operation, result: Any) -> Response:
    reply = result if isinstance(result, Reply) else Reply(result)
    status = reply.status or op.status
    if status == 204:
        return Response(status=204)
    data = reply.data
    if op.response is not None:
        data = op.response.model_validate(data).model_dump(mode="json")
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = Response(body, status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    if reply.location:
        response.headers["Location"] = reply.location
    if op.etag:
        response.headers["ETag"] = etag_of(data)
        if op.method == "GET" and request.if_none_match.contains(etag_of(data).strip('"')):
            not_modified = Response(status=304)
            not_modified.headers["ETag"] = response.headers["ETag"]
            return not_modified
    return response


def etag_of(data: Any) -> str:
    """A strong ETag of a resource's JSON representation."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f'"{digest[:32]}"'


def check_if_match(current: BaseModel) -> None:
    """An update with ``If-Match`` goes ahead only if the resource is still as the client saw it."""
    if not request.headers.get("If-Match"):
        return
    tag = etag_of(current.model_dump(mode="json")).strip('"')
    if not request.if_match.contains(tag) and not request.if_match.star_tag:
        raise Problem(
            412,
            _("The resource has changed since you read it: read it again and repeat the change."),
            headers={"ETag": f'"{tag}"'},
        )


def _audit(caller: Caller, status: int) -> None:
    """One record per call: the client, the operation and its answer."""
    record(
        "api.called",
        None,
        None,
        client=caller.client.client_id,
        method=request.method,
        path=request.path[:200],
        status=status,
    )
    db.session.commit()
