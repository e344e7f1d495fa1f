"""The generate request's body: read, bounded, and parsed off the event loop when it is large.

FastAPI would parse and validate a declared body on the event loop, and pydantic
reports every bad item of a body: an object with a million unknown keys costs
seconds and a gigabyte in error entries. Parsing itself costs about
:data:`PARSED_VALUE_BYTES` per JSON value (pydantic's JSON tree, then the Python
objects), so 8 million zeros in a 16 MB body would take 600 MB. Here instead:

- the model is looked up first (404 before anything is parsed);
- a body with more than :data:`MAX_OBJECT_MEMBERS` colons is refused: every member of
  a JSON object has one colon, and a generate request has a few dozen at most;
- a body with more than :data:`MAX_CONTAINERS` opening brackets and braces is refused: a
  generate request has one object, and one list or range per condition; so nesting (a
  million ``[[[[]]]]`` items) is bounded in depth and count before anything is parsed;
- a body with more values (commas + 1) than the model's per-event conditions can hold
  (``max_events_per_request`` per condition) is refused; so neither the errors nor the
  parsed values outgrow the largest valid request;
- what parsing will take is charged to the memory budget (503 when it is spent);
- a body over :data:`INLINE_PARSE_BYTES` is parsed in a worker thread, so health checks
  and small requests keep their latency;
- per-event lists stop at their first bad item (``fail_fast`` in the schema), and the
  errors carry no echo of the input (:mod:`hepgan.service.errors` shows the first few
  and counts the rest).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from hepgan.service.dependencies import RegistryDep, SettingsDep
from hepgan.service.schemas import GENERATE_EXAMPLES, GenerateRequest

INLINE_PARSE_BYTES = 64 * 1024  # smaller bodies are parsed on the event loop (under 1 ms)
MAX_OBJECT_MEMBERS = 256
MAX_CONTAINERS = 256  # "[" and "{": one list or range per condition and the body itself
PARSED_VALUE_BYTES = 80  # measured: 1M floats in a 16 MB body raise the peak RSS by 76 MB
NOT_JSON = "the body must be a JSON object sent with 'Content-Type: application/json'"


async def read_generate_request(
    request: Request, name: str, registry: RegistryDep, settings: SettingsDep
) -> GenerateRequest:
    """The body of ``request`` as a checked :class:`GenerateRequest`; 422 naming the field."""
    if "json" not in request.headers.get("content-type", ""):
        raise RequestValidationError([{"type": "content_type", "loc": ("body",), "msg": NOT_JSON}])
    n_conditions = len(registry.get(name).condition_names)
    body = await request.body()
    max_values = settings.max_events_per_request * max(n_conditions, 1) + MAX_OBJECT_MEMBERS
    values = _check_shape(body, max_values)
    request.app.state.budgets["memory"].take(request.scope, values * PARSED_VALUE_BYTES)
    if len(body) <= INLINE_PARSE_BYTES:
        return parse_generate_request(body)
    return await anyio.to_thread.run_sync(parse_generate_request, body)


def _check_shape(body: bytes, max_values: int) -> int:
    """The number of JSON values ``body`` may hold (commas + 1), if within the bounds."""
    colons, values = body.count(b":"), body.count(b",") + 1
    containers = body.count(b"[") + body.count(b"{")
    for count, limit, kind, what in (
        (colons, MAX_OBJECT_MEMBERS, "too_many_members", "object members"),
        (containers, MAX_CONTAINERS, "too_many_containers", "lists and objects"),
        (values, max_values, "too_many_values", "values"),
    ):
        if count > limit:
            message = f"the body has up to {count} {what}; a generate request has at most {limit}"
            raise RequestValidationError([{"type": kind, "loc": ("body",), "msg": message}])
    return values


def parse_generate_request(body: bytes) -> GenerateRequest:
    """Parse and validate JSON ``body``; raises RequestValidationError (locations under "body")."""
    try:
        return GenerateRequest.model_validate_json(body)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError(
            [{"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]} for e in errors]
        ) from None


def _inline_definitions(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each ``{"$ref": "#/$defs/X"}`` replaced by X (OpenAPI cannot reach $defs)."""
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                return inline(definitions[reference.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema)


# The OpenAPI description of the body, as FastAPI would write it for a declared body.
GENERATE_REQUEST_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": _inline_definitions(GenerateRequest.model_json_schema()),
                "examples": GENERATE_EXAMPLES,
            }
        },
    }
}
