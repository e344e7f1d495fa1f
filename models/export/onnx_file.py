"""Write an artefact as one ONNX file: (noise, conditions) -> events in physical units.

Graph inputs ``noise`` (B, Z) float32, z ~ N(0, 1), and, for a conditional model,
``conditions`` (B, C) float32 in the card's units (MeV for incident energies); output
``events`` (B, F) float32 in the card's units. B is dynamic. The model card goes into the
file's metadata (``metadata_props``, all strings): see :func:`card_metadata`. An existing
file is replaced only when it is such a file (an earlier export), never anything else.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hepgan.atomic import atomic_destination
from hepgan.errors import ConfigError

if TYPE_CHECKING:
    import torch

    from hepgan.models.artefact import ModelArtefact

OPSET = 17
NOISE_INPUT = "noise"
CONDITIONS_INPUT = "conditions"
EVENTS_OUTPUT = "events"
# Version of the metadata keys below, for readers that check what they get.
CARD_METADATA_VERSION = "1"
# The metadata key (of card_metadata) that marks a file as written by hepgan export.
EXPORT_MARK = "hepgan.metadata_version"


def require(module: str, extra: str = "onnx") -> Any:
    """Import an optional dependency, or a :class:`ConfigError` naming what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"this needs the Python package {module!r}: pip install 'hepgan[{extra}]' "
            f"(or pip install {module})"
        ) from None


def card_metadata(artefact: ModelArtefact) -> dict[str, str]:
    """The card as ONNX metadata (string -> string; lists and ranges as JSON):

    ``hepgan.model`` (name), ``hepgan.kind``, ``hepgan.feature_names``,
    ``hepgan.feature_units``, ``hepgan.condition_names``, ``hepgan.condition_units``,
    ``hepgan.condition_ranges`` ({name: [lo, hi]} seen in training), ``hepgan.latent_dim``,
    ``hepgan.artefact_sha256`` (sha256 of model.json, which holds the sha256 of every other
    file), ``hepgan.checksums`` (those), ``hepgan.opset``, ``hepgan.transforms`` (the fitted
    steps, all in the graph; for applying by hand), ``hepgan.output_tree`` and
    ``hepgan.output_columns`` (the branches of ``hepgan generate``'s ROOT files).
    """
    from hepgan.models.artefact import CARD_FILE, sha256_of

    card = artefact.card
    values: dict[str, Any] = {
        "model": artefact.name,
        "kind": card.kind,
        "metadata_version": CARD_METADATA_VERSION,
        "feature_names": card.feature_names,
        "feature_units": card.feature_units,
        "condition_names": card.condition_names,
        "condition_units": card.condition_units,
        "condition_ranges": card.condition_ranges,
        "latent_dim": card.architecture["latent_dim"],
        "artefact_sha256": sha256_of(artefact.folder / CARD_FILE),
        "checksums": card.checksums,
        "opset": OPSET,
        "transforms": card.transforms,
        "output_tree": card.output.tree,
        "output_columns": [column.model_dump() for column in card.output.columns],
        "validation": card.validation,
    }
    return {
        f"hepgan.{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in values.items()
    }


def export_module(artefact: ModelArtefact) -> torch.nn.Module:
    """The torch module exported, on the CPU: (noise, conditions) -> events, or noise -> events
    for a model without conditions."""
    from hepgan.models.export.graph import ExportedSampler, NoiseOnlySampler

    artefact.to("cpu")
    module = ExportedSampler if artefact.card.n_conditions else NoiseOnlySampler
    return module(artefact.sampler).eval()


def input_names(artefact: ModelArtefact) -> list[str]:
    """``noise``, and ``conditions`` for a conditional model."""
    return [NOISE_INPUT] + ([CONDITIONS_INPUT] if artefact.card.n_conditions else [])


def _written_by_export(path: Path) -> bool:
    """Whether ``path`` is an ONNX file whose metadata has :data:`EXPORT_MARK`."""
    from google.protobuf.message import Error as ProtobufError

    onnx = require("onnx")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (ProtobufError, OSError, ValueError):
        return False
    return any(entry.key == EXPORT_MARK for entry in model.metadata_props)


def check_replaceable(output: Path) -> None:
    """Nothing at ``output``, or a file an earlier export wrote; else a :class:`ConfigError`
    naming ``-o/--output``."""
    if not os.path.lexists(output):
        return
    if output.is_symlink() or not output.is_file():
        reason = "it is not a file"
    elif not _written_by_export(output):
        reason = "it is not an ONNX file with hepgan's metadata"
    else:
        return
    raise ConfigError(
        f"-o/--output: {output} exists and was not written by hepgan export ({reason}); "
        "remove it yourself or choose another name"
    )


def export_onnx(artefact: ModelArtefact, output: str | Path) -> Path:
    """Write ``output`` (.onnx, atomically): the checked graph with the card in its metadata.
    An existing ``output`` is replaced only if an earlier export wrote it."""
    onnx = require("onnx")
    import torch

    output = Path(output)
    if not output.parent.is_dir():
        raise ConfigError(f"-o/--output: folder {output.parent} does not exist")
    check_replaceable(output)
    names = input_names(artefact)
    latent_dim = artefact.card.architecture["latent_dim"]
    example = [torch.zeros(2, latent_dim)]
    if artefact.card.n_conditions:
        low = [artefact.card.condition_ranges[name][0] for name in artefact.card.condition_names]
        example.append(torch.tensor(np.tile(low, (2, 1)), dtype=torch.float32))
    with atomic_destination(output) as partial, warnings.catch_warnings():
        # The tracer warns about Python branches on table sizes: constants of the graph. The
        # TorchScript exporter warns that it is deprecated (dynamo's, which needs onnxscript,
        # is its successor); it is the one this graph is tested with.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            export_module(artefact),
            tuple(example),
            str(partial),
            input_names=names,
            output_names=[EVENTS_OUTPUT],
            dynamic_axes={name: {0: "batch"} for name in [*names, EVENTS_OUTPUT]},
            opset_version=OPSET,
            dynamo=False,
        )
        model = onnx.load(str(partial))
        model.doc_string = (
            f"hepgan model {artefact.name} ({artefact.card.kind}): noise (B, {latent_dim}) "
            f"~ N(0, 1) and physical conditions -> events in physical units"
        )
        for key, value in card_metadata(artefact).items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.checker.check_model(model)
        onnx.save(model, str(partial))
    return output
