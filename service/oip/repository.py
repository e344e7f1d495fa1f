"""The model repository's index in Triton's form (``POST /v2/repository/index``).

Request body: empty, or ``{"ready": bool}`` (true: the ready models only). Answer: one entry
per model folder, ``{"name", "version", "state": "READY"}`` for a served model and
``{"name", "version", "state": "UNAVAILABLE", "reason"}`` for a folder that failed to load,
sorted by name, as Triton lists its repository. Loading and unloading models (the rest of
Triton's ``model_repository`` extension) are not offered: the models folder is read at start.
"""

from __future__ import annotations

import msgspec

from hepgan.service.registry import ModelRegistry

WHOLE_FOLDER = "."  # the registry's key for a models folder that could not be read at all


class _IndexRequest(msgspec.Struct, forbid_unknown_fields=True):
    ready: bool = False


_DECODER = msgspec.json.Decoder(_IndexRequest)


def decode_index_request(body: bytes) -> bool:
    """Whether the index request ``body`` asks for the ready models only; ValueError naming
    the field when the body is not ``{"ready": bool}``."""
    if not body.strip():
        return False
    try:
        return _DECODER.decode(body).ready
    except msgspec.ValidationError as error:
        raise ValueError(f"repository index request: {error}") from None
    except msgspec.DecodeError as error:
        raise ValueError(f"repository index request is not JSON: {error}") from None


def repository_index(registry: ModelRegistry, *, version: str, ready_only: bool) -> list[dict]:
    """The index entries of ``registry``'s models (and of its broken folders unless
    ``ready_only``)."""
    entries = {
        name: {"name": name, "version": version, "state": "READY"} for name in registry.models
    }
    if not ready_only:
        for name, reason in registry.broken.items():
            if name != WHOLE_FOLDER:
                entries[name] = {
                    "name": name,
                    "version": version,
                    "state": "UNAVAILABLE",
                    "reason": reason,
                }
    return [entries[name] for name in sorted(entries)]
