"""Triton's Python backend model of a hepgan export: ``REPO/NAME/1/model.py``.

``hepgan export --format triton --backend python`` copies this file as it is beside
``model.onnx``; Triton's Python backend imports it (``triton_python_backend_utils`` exists only
there) and :class:`TritonPythonModel` runs the ONNX graph with the onnxruntime package: the
inputs ``noise`` (N, Z) and, for a conditional model, ``conditions`` (N, C) as FP32, the output
``events`` (N, F) FP32, exactly what Triton's ONNX Runtime platform computes from the same file.
The stub's Python needs numpy and onnxruntime (``pip install 'hepgan[onnx]'``).

Tensors cross the backend by DLPack, not by ``as_numpy()`` / ``Tensor(name, array)``: stubs
built against NumPy 1 (the ``nvidia-pytriton`` wheel's) misread NumPy 2 arrays' descriptors
(shapes and values came back wrong). The stub marks a consumed capsule ``used_dlpack`` where
the DLPack protocol says ``used_dltensor``; :func:`_handed_over` renames it, so the capsule's
own destructor knows the stub owns the tensor now (and does not print an error per request).
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import onnxruntime
import triton_python_backend_utils as pb_utils

GRAPH_FILE = "model.onnx"
EVENTS = "events"
USED_CAPSULE = b"used_dltensor"  # module-level: the capsule keeps a pointer to these bytes
_set_capsule_name = ctypes.pythonapi.PyCapsule_SetName
_set_capsule_name.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _handed_over(events: np.ndarray):
    """A ``pb_utils.Tensor`` named ``events`` taking over the array's memory by DLPack."""
    capsule = events.__dlpack__()
    tensor = pb_utils.Tensor.from_dlpack(EVENTS, capsule)
    _set_capsule_name(capsule, USED_CAPSULE)
    return tensor


class TritonPythonModel:
    """One model instance: an onnxruntime session on the graph beside this file."""

    def initialize(self, args: dict) -> None:
        path = Path(__file__).with_name(GRAPH_FILE)
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.inputs = [item.name for item in self.session.get_inputs()]

    def _events(self, request) -> np.ndarray:
        feeds = {}
        for name in self.inputs:
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            if tensor is None:
                raise ValueError(f"input {name!r} is required")
            feeds[name] = np.asarray(np.from_dlpack(tensor), dtype=np.float32)
        (events,) = self.session.run([EVENTS], feeds)
        return events

    def execute(self, requests: list) -> list:
        """One response per request, in order: the events, or the error that request met."""
        responses = []
        for request in requests:
            try:
                tensor = _handed_over(self._events(request))
                responses.append(pb_utils.InferenceResponse(output_tensors=[tensor]))
            except Exception as error:  # noqa: BLE001 - the client gets it as its request's error
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error))))
        return responses
