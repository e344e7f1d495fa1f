"""A served model's configuration in Triton's form (the ``model_configuration`` extension,
``GET /v2/models/{name}/config``): the JSON of Triton's ``ModelConfig`` protobuf, with the keys
and value types a real Triton gives (tests/service/test_oip_extensions.py compares them).

The tensors are those of ``/v2``'s metadata without the batch axis (``max_batch_size``, the
most events one request may ask for, adds it); ``parameters`` carry the model card as
``hepgan export`` writes it into ONNX metadata and ``config.pbtxt``
(:func:`~hepgan.models.export.onnx_file.card_metadata`).
"""

from __future__ import annotations

from hepgan.models.export.onnx_file import card_metadata
from hepgan.service.model import LoadedModel


def _tensor(name: str, width: int, *, output: bool) -> dict:
    """One ``ModelOutput`` (``output``) or ``ModelInput`` of FP32 values, ``width`` per event."""
    common = {"name": name, "data_type": "TYPE_FP32", "dims": [width], "is_shape_tensor": False}
    if output:
        return {**common, "label_filename": "", "is_non_linear_format_io": False}
    return {
        **common,
        "format": "FORMAT_NONE",
        "allow_ragged_batch": False,
        "optional": False,
        "is_non_linear_format_io": False,
    }


def model_config(
    model: LoadedModel,
    *,
    platform: str,
    inputs: list[tuple[str, int]],
    outputs: list[tuple[str, int]],
    max_batch_size: int,
) -> dict:
    """The configuration of ``model`` as served: ``inputs`` and ``outputs`` are (name, values
    per event), ``max_batch_size`` the most events per request."""
    kind = "KIND_GPU" if model.device.startswith("cuda") else "KIND_CPU"
    return {
        "name": model.name,
        "platform": platform,
        "backend": "",
        "runtime": "",
        "version_policy": {"latest": {"num_versions": 1}},
        "max_batch_size": max_batch_size,
        "input": [_tensor(name, width, output=False) for name, width in inputs],
        "output": [_tensor(name, width, output=True) for name, width in outputs],
        "batch_input": [],
        "batch_output": [],
        "instance_group": [
            {
                "name": f"{model.name}_0",
                "kind": kind,
                "count": 1,
                "gpus": [],
                "secondary_devices": [],
                "profile": [],
                "passive": False,
                "host_policy": "",
            }
        ],
        "default_model_filename": "",
        "cc_model_filenames": {},
        "metric_tags": {},
        "parameters": {
            key: {"string_value": value} for key, value in card_metadata(model.artefact).items()
        },
        "model_warmup": [],
    }
