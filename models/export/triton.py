"""A Triton model repository around the ONNX graph: ``REPO/NAME/config.pbtxt`` and
``REPO/NAME/1/model.onnx``, for Triton Inference Server and KServe's Triton runtime.

The configuration (protobuf text format, Triton's ``ModelConfig``) names the ONNX Runtime
backend, the inputs ``noise`` (Z) and ``conditions`` (C) and the output ``events`` (F) as
float32 without the batch axis (``max_batch_size`` > 0 adds it), dynamic batching and an
instance group, and carries the card's metadata (:func:`card_metadata`) as string
``parameters``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from hepgan.atomic import atomic_destination
from hepgan.errors import ConfigError
from hepgan.models.export.onnx_file import (
    CONDITIONS_INPUT,
    EVENTS_OUTPUT,
    NOISE_INPUT,
    card_metadata,
    export_onnx,
)
from hepgan.models.sampler import default_batch_size

if TYPE_CHECKING:
    from hepgan.models.artefact import ModelArtefact

CONFIG_FILE = "config.pbtxt"
MODEL_FILE = "model.onnx"
VERSION = "1"


def _quote(text: str) -> str:
    """A protobuf text-format string literal (JSON's escapes are a subset it accepts)."""
    return json.dumps(text)


def _tensor(name: str, width: int) -> str:
    return f"  {{ name: {_quote(name)} data_type: TYPE_FP32 dims: [ {width} ] }}"


def triton_config(
    artefact: ModelArtefact,
    *,
    name: str,
    max_batch_size: int,
    instances: int,
    kind: str,
    max_queue_delay_us: int,
) -> str:
    """The ``config.pbtxt`` text of model ``name``."""
    card = artefact.card
    inputs = [_tensor(NOISE_INPUT, card.architecture["latent_dim"])]
    if card.n_conditions:
        inputs.append(_tensor(CONDITIONS_INPUT, card.n_conditions))
    parameters = [
        f"parameters {{ key: {_quote(key)} value {{ string_value: {_quote(value)} }} }}"
        for key, value in card_metadata(artefact).items()
    ]
    return "\n".join(
        [
            f"name: {_quote(name)}",
            'platform: "onnxruntime_onnx"',
            f"max_batch_size: {max_batch_size}",
            "input [",
            ",\n".join(inputs),
            "]",
            "output [",
            _tensor(EVENTS_OUTPUT, card.n_features),
            "]",
            f"dynamic_batching {{ max_queue_delay_microseconds: {max_queue_delay_us} }}",
            f"instance_group [ {{ count: {instances} kind: {kind} }} ]",
            *parameters,
            "",
        ]
    )


def export_triton(
    artefact: ModelArtefact,
    repository: str | Path,
    *,
    name: str | None = None,
    max_batch_size: int | None = None,
    instances: int = 1,
    kind: str = "KIND_CPU",
    max_queue_delay_us: int = 100,
) -> Path:
    """Write model ``name`` (default: the artefact's) into ``repository``; returns its folder.

    ``max_batch_size`` defaults to the sampler's batch (at most 2^24 values per call);
    ``kind`` is ``KIND_CPU`` or ``KIND_GPU``. An existing model folder is replaced.
    """
    name = name or artefact.name
    if kind not in ("KIND_CPU", "KIND_GPU"):
        raise ConfigError(f"--instance-kind must be KIND_CPU or KIND_GPU, got {kind!r}")
    if instances < 1:
        raise ConfigError(f"--instances must be a positive integer, got {instances}")
    batch = max_batch_size or default_batch_size(artefact.card.n_features)
    if batch < 1:
        raise ConfigError(f"--max-batch-size must be a positive integer, got {batch}")
    repository = Path(repository)
    if not repository.parent.is_dir():
        raise ConfigError(f"-o/--output: folder {repository.parent} does not exist")
    folder = repository / name
    if folder.exists():
        shutil.rmtree(folder)
    (folder / VERSION).mkdir(parents=True)
    export_onnx(artefact, folder / VERSION / MODEL_FILE)
    text = triton_config(
        artefact,
        name=name,
        max_batch_size=batch,
        instances=instances,
        kind=kind,
        max_queue_delay_us=max_queue_delay_us,
    )
    with atomic_destination(folder / CONFIG_FILE) as partial:
        partial.write_text(text)
    return folder
