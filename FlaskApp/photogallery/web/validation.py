"""API requests checked at the edge against /api/openapi.json: one schema per operation.

Before an API view runs, its query parameters and JSON body are checked against the operation's
schema in web/openapi.py, so the document says exactly what is accepted and cannot drift from
it. A refusal is InvalidInput naming the field; views read the checked values with json_body()
and query_value(), never request.get_json().
"""

from __future__ import annotations

import json
import math
import re
from functools import cache

from flask import g, request
from flask_login import current_user
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ..services.errors import InvalidInput
from .openapi import OPENAPI

MAX_JSON_BYTES = 64 * 1024  # every body the API takes is a few short fields
MAX_DEPTH = 32
MAX_DIGITS = 100  # in a JSON number or an integer parameter; more is never a real value
_METHODS = ("get", "put", "post", "patch", "delete")
_RULE_VARIABLE = re.compile(r"<(?:\w+:)?(\w+)>")
_SURROGATE = re.compile("[\ud800-\udfff]")  # "\ud800" in JSON is a str that cannot be stored
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "object": "a JSON object",
    "array": "a list",
    "boolean": "true or false",
    "null": "null",
}
_SENTENCES = {
    "minLength": "{field} must be at least {bound} characters",
    "maxLength": "{field} must be at most {bound} characters",
    "minimum": "{field} must be at least {bound}",
    "maximum": "{field} must be at most {bound}",
}


class UnsupportedBody(InvalidInput):
    """A body that is not JSON where the operation takes JSON."""

    status = 415


class BodyTooLarge(InvalidInput):
    """A JSON body over MAX_JSON_BYTES."""

    status = 413


def check_request() -> None:
    """``before_request`` of the API blueprints: refuse what the operation does not accept."""
    operation = operation_for(request.url_rule.rule if request.url_rule else None, request.method)
    if operation is None:
        return
    if _needs_sign_in(operation) and not current_user.is_authenticated:
        return  # the view answers 401: credentials are asked for before content is judged
    g.api_query = _checked_query(operation)
    g.api_body = _checked_body(operation)


def json_body() -> dict:
    """The request's JSON object, checked against its operation's schema ({} when none)."""
    return g.get("api_body") or {}


def query_value(name: str) -> object:
    """A query parameter, checked and converted to its documented type (None when absent)."""
    return g.get("api_query", {}).get(name)


@cache
def _operations() -> dict[tuple[str, str], dict]:
    """(path, method) → the document's operation, with the path's shared parameters."""
    found = {}
    for path, item in OPENAPI["paths"].items():
        for method in _METHODS:
            if method in item:
                parameters = item.get("parameters", []) + item[method].get("parameters", [])
                found[path, method] = {**item[method], "parameters": parameters}
    return found


def operation_for(rule: str | None, method: str) -> dict | None:
    """The operation documented for a URL rule (``/api/photos/<int:photo_id>``) and method."""
    if rule is None:
        return None
    method = "get" if method == "HEAD" else method.lower()
    return _operations().get((_RULE_VARIABLE.sub(r"{\1}", rule), method))


def _needs_sign_in(operation: dict) -> bool:
    return any("bearer" in scheme for scheme in operation.get("security", OPENAPI["security"]))


def _checked_query(operation: dict) -> dict[str, object]:
    values: dict[str, object] = {}
    for param in operation["parameters"]:
        name = param["name"]
        if param["in"] != "query":
            continue
        if name not in request.args:
            if param.get("required"):
                raise InvalidInput(f"the query parameter {name} is required")
            continue
        values[name] = _query_value(name, request.args[name], param["schema"])
    return values


def _query_value(name: str, text: str, schema: dict) -> object:
    value: object = text
    if schema.get("type") == "integer":
        if not re.fullmatch(r"-?[0-9]+", text):
            raise InvalidInput(f"{name} must be an integer")
        digits = text.lstrip("-")
        # Past MAX_DIGITS, any number past the schema's bounds says the same (int() would raise).
        value = int(text) if len(digits) <= MAX_DIGITS else int(text[0] + "9" * MAX_DIGITS)
    _validate(value, schema, name)
    return value


def _checked_body(operation: dict) -> dict | None:
    body = operation.get("requestBody")
    if not body or "application/json" not in body["content"]:
        return None  # multipart uploads are read by their own code
    schema = body["content"]["application/json"]["schema"]
    raw = _read_body()
    if not raw.strip():
        if body.get("required"):
            wanted = ", ".join(schema.get("required", []))
            raise InvalidInput(f"send a JSON object with {wanted}")
        return {}
    if not request.is_json:
        raise UnsupportedBody("send the body as JSON, with Content-Type: application/json")
    value = _parse_json(raw)
    _validate(value, schema, "the body")
    return _whole_numbers(value, schema)


def _whole_numbers(body: dict, schema: dict) -> dict:
    """JSON Schema counts 2.0 (and 2e3) as integers: the views get them as ints."""
    properties = schema.get("properties", {})
    return {
        name: int(value)
        if isinstance(value, float) and properties.get(name, {}).get("type") == "integer"
        else value
        for name, value in body.items()
    }


def _read_body() -> bytes:
    too_large = f"a JSON body is at most {MAX_JSON_BYTES // 1024} kB"
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise BodyTooLarge(too_large)
    raw = request.stream.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise BodyTooLarge(too_large)
    return raw


def _parse_json(raw: bytes) -> object:
    """JSON text as RFC 8259 has it (UTF-8, no NaN, unique names), flat enough to handle."""
    try:
        value = json.loads(
            raw.decode("utf-8"),
            parse_constant=_refuse_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
            object_pairs_hook=_unique_names,
        )
    except UnicodeDecodeError:
        raise InvalidInput("the body is not UTF-8 text") from None
    except RecursionError:
        raise InvalidInput(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} (at character {exc.pos})"
        raise InvalidInput(f"the body is not valid JSON: {reason}") from None
    except ValueError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from None
    _check_structure(value)
    return value


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"a number has more than {MAX_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:20]} is too large")
    return number


def _unique_names(pairs: list[tuple[str, object]]) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        twice = next(name for name, _ in pairs if name in seen or seen.add(name))
        raise ValueError(f"the name {_short(twice)} appears twice in one object")
    return value


def _check_structure(value: object) -> None:
    """No deeper than MAX_DEPTH; no text that cannot be stored (lone UTF-16 surrogates)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise InvalidInput(f"the JSON is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            pending += [(k, depth) for k in item] + [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            pending += [(v, depth + 1) for v in item]
        elif isinstance(item, str) and _SURROGATE.search(item):
            raise InvalidInput("the JSON has text with a lone \\ud800-\\udfff escape")


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _validate(value: object, schema: dict, where: str) -> None:
    validator = _validator(json.dumps(schema, sort_keys=True))
    error = best_match(validator.iter_errors(value))
    if error is not None:
        raise InvalidInput(_message(error, where))


def _message(error: ValidationError, where: str) -> str:
    """A sentence naming the field, never echoing the value (it may be megabytes long)."""
    field = ".".join(_short(p, quote=False) for p in error.absolute_path) or where
    kind, bound = error.validator, error.validator_value
    if kind == "type":
        types = bound if isinstance(bound, list) else [bound]
        return f"{field} must be {' or '.join(_TYPE_NAMES.get(t, t) for t in types)}"
    if kind == "required":
        missing = [name for name in bound if name not in error.instance]
        return f"{missing[0]} is required"
    if kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        return f"unknown field {_short(extra[0])}; this takes {', '.join(known) or 'none'}"
    if kind == "pattern" and "description" in error.schema:
        return f"{field} must be {error.schema['description']}"
    if kind == "enum":
        return f"{field} must be one of {', '.join(map(str, bound))}"
    return _SENTENCES.get(kind, "{field} is not valid").format(field=field, bound=bound)


def _short(name: object, quote: bool = True) -> str:
    text = str(name) if len(str(name)) <= 40 else str(name)[:40] + "..."
    return repr(text) if quote else text
