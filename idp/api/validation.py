"""Reading a call's JSON body and query into its Pydantic model, or a 4xx problem that says which
field is wrong, in the request's language."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from idp.api.problems import Problem

M = TypeVar("M", bound=BaseModel)


def _field_message(error_type: str, context: dict[str, Any]) -> str:
    if error_type == "missing":
        return _("This field is required.")
    if error_type == "extra_forbidden":
        return _("This field is not known here.")
    if error_type in ("string_too_long", "too_long"):
        return _("This is too long.")
    if error_type in ("string_too_short", "too_short"):
        return _("This is too short.")
    if error_type.startswith(("int_", "float_")) or error_type in ("greater_than_equal", "less_than_equal"):
        return _("Give a whole number in the allowed range.")
    if error_type in ("literal_error", "enum"):
        allowed = context.get("expected", "")
        return _("Choose one of: %(allowed)s.", allowed=allowed)
    if error_type.startswith("bool"):
        return _("Give true or false.")
    if error_type == "model_type" or error_type == "dict_type":
        return _("Give a JSON object.")
    if error_type == "list_type":
        return _("Give a list.")
    return _("This value is not valid.")


def _problem(error: ValidationError, prefix: str) -> Problem:
    errors = [
        {
            "pointer": prefix + "".join(f"/{part}" for part in item["loc"]),
            "detail": _field_message(item["type"], item.get("ctx") or {}),
        }
        for item in error.errors(include_url=False)
    ]
    return Problem(422, _("Some fields are missing or not valid."), errors=errors)


def _refuse_unstorable(value: Any, pointer: str = "") -> None:
    """A NUL or a lone surrogate can be sent in JSON but stored in no database: refuse it."""
    if isinstance(value, str):
        if "\x00" in value or not _encodes(value):
            raise Problem(
                422,
                _("Some fields are missing or not valid."),
                errors=[
                    {
                        "pointer": pointer or "/",
                        "detail": _("This text holds characters that are not allowed."),
                    }
                ],
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(key, pointer)
            _refuse_unstorable(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_unstorable(item, f"{pointer}/{index}")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_body(model: type[M]) -> M:
    """The JSON body as ``model``: 415 for another media type, 400 for broken JSON, 422 for fields."""
    if request.mimetype != "application/json":
        raise Problem(415)
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, _("The body is not valid JSON.")) from exc
    _refuse_unstorable(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _problem(exc, "") from exc


def read_query(model: type[M]) -> M:
    """The query string as ``model`` (each parameter once)."""
    data = {key: values[-1] for key, values in request.args.lists()}
    _refuse_unstorable(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _problem(exc, "#") from exc
