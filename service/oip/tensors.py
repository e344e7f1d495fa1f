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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from hepgan.errors import HepganError

HEADER_LENGTH = "Inference-Header-Content-Length"
BINARY_CONTENT_TYPE = "application/octet-stream"
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
    id: str | None = None

    def wants_binary(self, name: str) -> bool:
        """Whether output ``name`` goes back as binary data."""
        requested = self.outputs.get(name, {}).get("binary_data")
        if requested is not None:
            return bool(requested)
        return bool(self.parameters.get("binary_data_output", False))


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TensorError(f"{where} must be a JSON object")
    return value


def _shape(spec: dict[str, Any], name: str) -> tuple[int, ...]:
    shape = spec.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in shape
    ):
        raise TensorError(f"input {name!r}: shape must be a list of non-negative integers")
    return tuple(shape)


def _dtype(spec: dict[str, Any], name: str) -> np.dtype:
    datatype = spec.get("datatype")
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise TensorError(
            f"input {name!r}: datatype {datatype!r} is not one of {', '.join(DATATYPES)}"
        )
    return DATATYPES[datatype]


def _decode_tensor(spec: dict[str, Any], binary: memoryview, offset: int) -> tuple[np.ndarray, int]:
    """One input tensor; returns it and the offset of the next binary input."""
    name = spec.get("name")
    if not isinstance(name, str):
        raise TensorError("every input needs a string 'name'")
    shape, dtype = _shape(spec, name), _dtype(spec, name)
    size = int(np.prod(shape, dtype=np.int64))
    parameters = _object(spec.get("parameters", {}), f"input {name!r}: parameters")
    binary_size = parameters.get("binary_data_size")
    if binary_size is not None:
        if not isinstance(binary_size, int) or binary_size != size * dtype.itemsize:
            raise TensorError(
                f"input {name!r}: binary_data_size {binary_size!r} does not match shape "
                f"{list(shape)} of {spec['datatype']} ({size * dtype.itemsize} bytes)"
            )
        if offset + binary_size > len(binary):
            raise TensorError(f"input {name!r}: the body ends before its binary data")
        values = np.frombuffer(binary[offset : offset + binary_size], dtype=dtype)
        return values.reshape(shape), offset + binary_size
    if "data" not in spec:
        raise TensorError(f"input {name!r}: give 'data' or parameters.binary_data_size")
    try:
        values = np.asarray(spec["data"], dtype=dtype)
    except (TypeError, ValueError):
        raise TensorError(f"input {name!r}: data must be numbers of {spec['datatype']}") from None
    if values.size != size:
        raise TensorError(
            f"input {name!r}: {values.size} values given for shape {list(shape)} ({size})"
        )
    return values.reshape(shape), offset


def decode_request(body: bytes, header_length: str | None) -> InferenceRequest:
    """Parse a request body (JSON, or JSON then binary tensor data of ``header_length``)."""
    if header_length is None:
        json_part, binary = body, memoryview(b"")
    else:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise TensorError(
                f"{HEADER_LENGTH}: {header_length!r} is not a length within the body "
                f"({len(body)} bytes)"
            )
        json_part, binary = body[: int(header_length)], memoryview(body)[int(header_length) :]
    try:
        document = _object(orjson.loads(json_part), "the request")
    except orjson.JSONDecodeError as error:
        raise TensorError(f"the request is not valid JSON: {error}") from None
    specs = document.get("inputs")
    if not isinstance(specs, list):
        raise TensorError("'inputs' must be a list of tensors")
    inputs: dict[str, np.ndarray] = {}
    offset = 0
    for spec in specs:
        values, offset = _decode_tensor(_object(spec, "every input"), binary, offset)
        name = spec["name"]
        if name in inputs:
            raise TensorError(f"input {name!r} is given twice")
        inputs[name] = values
    outputs = {}
    requested = document.get("outputs", [])
    if not isinstance(requested, list):
        raise TensorError("'outputs' must be a list of requested outputs")
    for spec in requested:
        spec = _object(spec, "every output")
        if not isinstance(spec.get("name"), str):
            raise TensorError("every requested output needs a string 'name'")
        outputs[spec["name"]] = _object(spec.get("parameters", {}), "output parameters")
    request_id = document.get("id")
    if "id" in document and not isinstance(request_id, str):
        raise TensorError("'id' must be a string")
    return InferenceRequest(
        inputs=inputs,
        parameters=_object(document.get("parameters", {}), "parameters"),
        outputs=outputs,
        id=request_id,
    )


def encode_response(
    document: dict[str, Any], outputs: dict[str, np.ndarray], request: InferenceRequest
) -> tuple[bytes, dict[str, str]]:
    """The response body and its extra headers: ``document`` (model name, id, parameters) with
    ``outputs`` (FP32 arrays) as JSON data, or as binary data after the JSON where asked."""
    tensors, binary = [], []
    for name, values in outputs.items():
        values = np.ascontiguousarray(values, dtype="<f4")
        tensor: dict[str, Any] = {"name": name, "datatype": "FP32", "shape": list(values.shape)}
        if request.wants_binary(name):
            tensor["parameters"] = {"binary_data_size": values.nbytes}
            binary.append(values.tobytes())
        else:
            tensor["data"] = values.reshape(-1)
        tensors.append(tensor)
    header = orjson.dumps({**document, "outputs": tensors}, option=orjson.OPT_SERIALIZE_NUMPY)
    if not binary:
        return header, {"Content-Type": "application/json"}
    extra = {HEADER_LENGTH: str(len(header)), "Content-Type": BINARY_CONTENT_TYPE}
    return b"".join([header, *binary]), extra
