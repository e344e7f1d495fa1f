"""The Open Inference Protocol's (KServe v2) tensors: requests in, responses out.

A request body is JSON, ``{"inputs": [{"name", "shape", "datatype", "data"}], "outputs",
"parameters", "id"}``, with each tensor's ``data`` a row-major list (flat or nested); or, with
the binary tensor data extension, that JSON followed by raw little-endian tensor bytes, its
length in the ``Inference-Header-Content-Length`` header and each binary input's size in its
``parameters.binary_data_size``. Responses follow the same rules: an output asked for with
``parameters.binary_data`` (or every output with the request parameter
``binary_data_output``) is sent as bytes after the JSON.

Every malformed request raises :class:`TensorError`, which the router answers with 400 and
``{"error": message}``, the message naming the tensor or field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
import orjson

from hepgan.errors import HepganError

HEADER_LENGTH = "Inference-Header-Content-Length"
_DECIMAL = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() also takes "²" and "٣"
BINARY_CONTENT_TYPE = "application/octet-stream"
_NUMPY = orjson.OPT_SERIALIZE_NUMPY
# Protocol datatype -> numpy dtype (little-endian), for the types this service reads or writes.
DATATYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("bool"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}


class TensorError(HepganError):
    """A request that is not a well-formed inference request (400, ``{"error": ...}``)."""


@dataclass
class InferenceRequest:
    """A decoded request: input arrays by name, requested outputs, and parameters."""

    inputs: dict[str, np.ndarray]
    parameters: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> parameters
    id: str | msgspec.UnsetType = msgspec.UNSET  # a string when given (null is refused)

    def wants_binary(self, name: str) -> bool:
        """Whether output ``name`` goes back as binary data."""
        requested = self.outputs.get(name, {}).get("binary_data")
        if requested is not None:
            return bool(requested)
        return bool(self.parameters.get("binary_data_output", False))


Scalar = str | int | float | bool | None  # a parameter's value


class _Tensor(msgspec.Struct):
    """One input tensor as the protocol writes it; ``data`` is numbers only (flat or 2-D)."""

    name: str
    shape: list[int]
    datatype: str
    data: list[float | list[float]] | None = None
    parameters: dict[str, Scalar] = msgspec.field(default_factory=dict)


class _Output(msgspec.Struct):
    name: str
    parameters: dict[str, Scalar] = msgspec.field(default_factory=dict)


class _Request(msgspec.Struct):
    inputs: list[_Tensor]
    outputs: list[_Output] = msgspec.field(default_factory=list)
    parameters: dict[str, Scalar] = msgspec.field(default_factory=dict)
    id: str | msgspec.UnsetType = msgspec.UNSET  # a string when given (null is refused)


# Typed decoding: each value is checked as it is read, and the first wrong one stops the
# decoder, so no Python object is built for the rest of a hostile body (a million nested
# lists in "data" cost microseconds, not seconds); strings and booleans are not numbers.
_DECODER = msgspec.json.Decoder(_Request)


def _decode_tensor(spec: _Tensor, binary: memoryview, offset: int) -> tuple[np.ndarray, int]:
    """One input tensor; returns it and the offset of the next binary input."""
    name, shape = spec.name, spec.shape
    if any(size < 0 for size in shape):
        raise TensorError(f"input {name!r}: shape must be a list of non-negative integers")
    if spec.datatype not in DATATYPES:
        raise TensorError(
            f"input {name!r}: datatype {spec.datatype!r} is not one of {', '.join(DATATYPES)}"
        )
    dtype = DATATYPES[spec.datatype]
    size = math.prod(shape)  # a Python int: no overflow for shapes like [2^32, 2^32]
    binary_size = spec.parameters.get("binary_data_size")
    if binary_size is not None:
        if type(binary_size) is not int or binary_size != size * dtype.itemsize:
            raise TensorError(
                f"input {name!r}: binary_data_size {binary_size!r} does not match shape "
                f"{list(shape)} of {spec.datatype} ({size * dtype.itemsize} bytes)"
            )
        if offset + binary_size > len(binary):
            raise TensorError(f"input {name!r}: the body ends before its binary data")
        values = np.frombuffer(binary[offset : offset + binary_size], dtype=dtype)
        return _shaped(values, shape, name), offset + binary_size
    if spec.data is None:
        raise TensorError(f"input {name!r}: give 'data' or parameters.binary_data_size")
    try:
        with np.errstate(over="ignore"):  # FP32 overflow gives inf, refused as not finite
            values = np.asarray(spec.data, dtype=dtype)
    except (TypeError, ValueError):
        raise TensorError(
            f"input {name!r}: data must be rows of equal length of {spec.datatype} numbers"
        ) from None
    if values.size != size:
        raise TensorError(
            f"input {name!r}: {values.size} values given for shape {list(shape)} ({size})"
        )
    return _shaped(values, shape, name), offset


def _shaped(values: np.ndarray, shape: list[int], name: str) -> np.ndarray:
    """``values`` as ``shape`` (same size), or TensorError for a shape NumPy cannot hold."""
    try:
        return values.reshape(shape)
    except ValueError:  # e.g. [0, 2^63]: no values, but a dimension over NumPy's limit
        raise TensorError(f"input {name!r}: shape {shape} is not a tensor NumPy can hold") from None


def _json_length(header_length: str | None, body_length: int) -> int:
    """The length of the JSON part: the whole body, or ``Inference-Header-Content-Length``."""
    if header_length is None:
        return body_length
    if not _DECIMAL.fullmatch(header_length) or int(header_length) > body_length:
        raise TensorError(
            f"{HEADER_LENGTH}: {header_length!r} is not a length within the body "
            f"({body_length} bytes)"
        )
    return int(header_length)


def decode_request(body: bytes, header_length: str | None) -> InferenceRequest:
    """Parse a request body (JSON, or JSON then binary tensor data of ``header_length``)."""
    json_length = _json_length(header_length, len(body))
    binary = memoryview(body)[json_length:]
    try:
        document = _DECODER.decode(memoryview(body)[:json_length])
    except msgspec.ValidationError as error:
        raise TensorError(f"the request does not follow the protocol: {error}") from None
    except (msgspec.DecodeError, RecursionError) as error:
        raise TensorError(f"the request is not valid JSON: {error}") from None
    inputs: dict[str, np.ndarray] = {}
    offset = 0
    for spec in document.inputs:
        values, offset = _decode_tensor(spec, binary, offset)
        if spec.name in inputs:
            raise TensorError(f"input {spec.name!r} is given twice")
        inputs[spec.name] = values
    return InferenceRequest(
        inputs=inputs,
        parameters=document.parameters,
        outputs={output.name: output.parameters for output in document.outputs},
        id=None if document.id is msgspec.UNSET else document.id,
    )


# Values per orjson call when a tensor goes out as JSON: orjson holds the GIL for a whole
# call (0.7 s for 24M values), so a worker thread encoding block by block lets the event loop
# run between blocks (a block of 2^16 values takes 2 to 10 ms). The pieces are sent as they
# are, never joined: a join or ``a + b`` of 460 MB, or one write of it into the socket's
# buffer, would copy it all at once (on the event loop for the write).
JSON_BLOCK_VALUES = 1 << 16


def _json_array(values: np.ndarray) -> list[bytes]:
    """``values`` (flattened) as the pieces of a JSON array, :data:`JSON_BLOCK_VALUES` a call."""
    flat = values.reshape(-1)
    pieces = [b"["]
    for start in range(0, len(flat), JSON_BLOCK_VALUES):
        block = flat[start : start + JSON_BLOCK_VALUES]
        pieces += [b"," if start else b"", orjson.dumps(block, option=_NUMPY)[1:-1]]
    return [*pieces, b"]"]


def encode_response(
    document: dict[str, Any], outputs: dict[str, np.ndarray], request: InferenceRequest
) -> tuple[list[bytes], dict[str, str]]:
    """The response body, in pieces to send one after the other, and its extra headers:
    ``document`` (model name, id, parameters) with ``outputs`` (FP32 arrays) as JSON data, or
    as binary data after the JSON where asked."""
    # {**document, "outputs": [...]}: the document's JSON with the tensors put in its last "[]"
    pieces, binary = [orjson.dumps({**document, "outputs": []})[:-2]], []
    for index, (name, values) in enumerate(outputs.items()):
        values = np.ascontiguousarray(values, dtype="<f4")
        tensor: dict[str, Any] = {"name": name, "datatype": "FP32", "shape": list(values.shape)}
        pieces.append(b"," if index else b"")
        if request.wants_binary(name):
            tensor["parameters"] = {"binary_data_size": values.nbytes}
            binary.append(values.tobytes())
            pieces.append(orjson.dumps(tensor))
        else:  # {"name", "datatype", "shape", "data": [...]}
            pieces += [orjson.dumps(tensor)[:-1], b',"data":', *_json_array(values), b"}"]
    pieces.append(b"]}")
    if not binary:
        return pieces, {"Content-Type": "application/json"}
    header_length = sum(len(piece) for piece in pieces)
    extra = {HEADER_LENGTH: str(header_length), "Content-Type": BINARY_CONTENT_TYPE}
    return [*pieces, *binary], extra
