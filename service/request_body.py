"""The generate request's body: read, parsed and checked off the event loop when it is large.

FastAPI would parse and validate a declared body on the event loop, and pydantic
reports every bad item of a body: an object with a million unknown keys costs
seconds and a gigabyte in error entries. Here instead:

- a body over :data:`INLINE_PARSE_BYTES` is parsed in a worker thread, so health
  checks and small requests keep their latency while it is checked;
- a body with more than :data:`MAX_OBJECT_MEMBERS` colons is refused before parsing:
  every member of a JSON object has one colon, a generate request has a few dozen
  members at most, and so pydantic never sees more than that many keys (a per-event
  list is one member, and stops at its first bad item: ``fail_fast`` in the schema);
- the errors carry no echo of the input (:mod:`hepgan.service.errors` shows the first
  few and counts the rest).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from hepgan.service.schemas import GENERATE_EXAMPLES, GenerateRequest

INLINE_PARSE_BYTES = 64 * 1024  # smaller bodies are parsed on the event loop (under 1 ms)
MAX_OBJECT_MEMBERS = 256
NOT_JSON = "the body must be a JSON object sent with 'Content-Type: application/json'"


async def read_generate_request(request: Request) -> GenerateRequest:
    """The body of ``request`` as a checked :class:`GenerateRequest`; 422 naming the field."""
    if "json" not in request.headers.get("content-type", ""):
        raise RequestValidationError([{"type": "content_type", "loc": ("body",), "msg": NOT_JSON}])
    body = await request.body()
    if len(body) <= INLINE_PARSE_BYTES:
        return parse_generate_request(body)
    return await anyio.to_thread.run_sync(parse_generate_request, body)


def parse_generate_request(body: bytes) -> GenerateRequest:
    """Parse and validate JSON ``body``; raises RequestValidationError (locations under "body")."""
    colons = body.count(b":")
    if colons > MAX_OBJECT_MEMBERS:
        raise RequestValidationError(
            [
                {
                    "type": "too_many_members",
                    "loc": ("body",),
                    "msg": f"the body has up to {colons} object members; a generate request "
                    f"has at most {MAX_OBJECT_MEMBERS}",
                }
            ]
        )
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
