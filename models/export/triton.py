"""A Triton model repository around the ONNX graph: ``REPO/NAME/config.pbtxt`` and
``REPO/NAME/1/model.onnx``, for Triton Inference Server and KServe's Triton runtime.

Two backends run the graph (``backend``): ``onnxruntime``, Triton's ONNX Runtime platform (the
full Triton images, GPU clusters), and ``python``, Triton's Python backend with
``REPO/NAME/1/model.py`` (:mod:`.triton_python_model`) running the same graph with the
onnxruntime package, which any Triton build loads (the one in the ``nvidia-pytriton`` wheel
has no ONNX Runtime backend).

The configuration (protobuf text format, Triton's ``ModelConfig``) names the backend, the
inputs ``noise`` (Z) and ``conditions`` (C) and the output ``events`` (F) as
float32 without the batch axis (``max_batch_size`` > 0 adds it), dynamic batching and an
instance group, and carries the card's metadata (:func:`card_metadata`) as string
``parameters``.

The model folder is written whole into a fresh sibling folder and renamed into place
(:func:`~hepgan.atomic.atomic_folder`). An existing ``REPO/NAME`` is replaced only when it
holds exactly what an export writes, with hepgan's metadata in its configuration; anything
else there is refused, and nothing outside ``REPO/NAME`` is touched.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from hepgan.atomic import atomic_folder
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
PYTHON_MODEL_FILE = "model.py"
VERSION = "1"
# The backend's line of the configuration, and the file of the Python backend's model.
BACKENDS = {"onnxruntime": 'platform: "onnxruntime_onnx"', "python": 'backend: "python"'}
PYTHON_MODEL_SOURCE = Path(__file__).with_name("triton_python_model.py")
# All an export of either backend puts in REPO/NAME (a re-export may switch backends) ...
WRITTEN = (VERSION, f"{VERSION}/{MODEL_FILE}", f"{VERSION}/{PYTHON_MODEL_FILE}", CONFIG_FILE)
# ... and the byte code Python writes beside model.py when Triton's Python backend imports it.
BYTE_CODE = re.compile(rf"{VERSION}/__pycache__(/model\.[a-z0-9_-]+\.pyc)?")
# The parameter that marks a configuration as written by hepgan export (card_metadata's key).
EXPORT_MARK = 'key: "hepgan.metadata_version"'
# A model name is one folder of the repository and the ``name`` of its configuration: letters,
# digits, '_', '-' and '.', not starting with '.' or '-' (so never '.', '..' nor hidden, never
# a path, never an option), at most 128 characters; Triton and URLs take it as it is.
MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


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
    backend: str = "onnxruntime",
) -> str:
    """The ``config.pbtxt`` text of model ``name`` for ``backend`` (a key of :data:`BACKENDS`)."""
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
            BACKENDS[backend],
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


def check_model_name(name: str, *, given: bool = True) -> str:
    """``name`` if it is a model name (:data:`MODEL_NAME`), else a :class:`ConfigError` naming
    ``--name`` (``given`` False: the default, the artefact's name, was used)."""
    if MODEL_NAME.fullmatch(name):
        return name
    source = "" if given else " (the default: the artefact's name; give --name)"
    raise ConfigError(
        f"--name: {name!r}{source} is not a model name: one folder name of letters, digits, "
        "'_', '-' and '.', not starting with '.' or '-', at most 128 characters (no path "
        "separator, no '..')"
    )


def _not_written_by_export(folder: Path) -> str | None:
    """Why the existing ``folder`` is not what an earlier ``hepgan export`` wrote, or None when
    it holds only :data:`WRITTEN` and the Python backend's :data:`BYTE_CODE` (no link) and its
    configuration carries hepgan's metadata."""
    if folder.is_symlink() or not folder.is_dir():
        return "it is not a folder"
    entries = {path.relative_to(folder).as_posix(): path.is_symlink() for path in folder.rglob("*")}
    others = sorted(
        name
        for name, link in entries.items()
        if link or not (name in WRITTEN or BYTE_CODE.fullmatch(name))
    )
    if others:
        return f"it holds {', '.join(others[:5])}" + (" ..." if len(others) > 5 else "")
    config = folder / CONFIG_FILE
    if not config.is_file() or EXPORT_MARK not in config.read_text(errors="replace"):
        return f"its {CONFIG_FILE} is not hepgan's"
    return None


def _replaceable(folder: Path) -> bool:
    """Whether ``folder`` (REPO/NAME) exists and may be replaced; raises :class:`ConfigError`
    when it exists and is not what an earlier export wrote."""
    if not (folder.is_symlink() or folder.exists()):
        return False
    reason = _not_written_by_export(folder)
    if reason is not None:
        raise ConfigError(
            f"-o/--output, --name: {folder} exists and was not written by hepgan export "
            f"({reason}); remove it yourself or choose another --name"
        )
    return True


def export_triton(
    artefact: ModelArtefact,
    repository: str | Path,
    *,
    name: str | None = None,
    max_batch_size: int | None = None,
    instances: int = 1,
    kind: str = "KIND_CPU",
    max_queue_delay_us: int = 100,
    backend: str = "onnxruntime",
) -> Path:
    """Write model ``name`` (default: the artefact's) into ``repository``; returns its folder.

    ``max_batch_size`` defaults to the sampler's batch (at most 2^24 values per call);
    ``kind`` is ``KIND_CPU`` or ``KIND_GPU``; ``backend`` is ``onnxruntime`` or ``python``.
    ``repository`` is made if missing (its parent must exist); an existing model folder is
    replaced only if an earlier export wrote it.
    """
    name = check_model_name(name or artefact.name, given=name is not None)
    if kind not in ("KIND_CPU", "KIND_GPU"):
        raise ConfigError(f"--instance-kind must be KIND_CPU or KIND_GPU, got {kind!r}")
    if backend not in BACKENDS:
        raise ConfigError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if instances < 1:
        raise ConfigError(f"--instances must be a positive integer, got {instances}")
    batch = max_batch_size or default_batch_size(artefact.card.n_features)
    if batch < 1:
        raise ConfigError(f"--max-batch-size must be a positive integer, got {batch}")
    repository = Path(repository)
    if not repository.parent.is_dir():
        raise ConfigError(f"-o/--output: folder {repository.parent} does not exist")
    if (repository.exists() or repository.is_symlink()) and not repository.is_dir():
        raise ConfigError(f"-o/--output: {repository} is not a folder")
    text = triton_config(
        artefact,
        name=name,
        max_batch_size=batch,
        instances=instances,
        kind=kind,
        max_queue_delay_us=max_queue_delay_us,
        backend=backend,
    )
    folder = repository / name
    if repository.exists():
        destination, replace = folder, _replaceable(folder)
    else:  # a new repository: it is the folder renamed into place, with the model inside
        destination, replace = repository, False
    with atomic_folder(destination, replace=replace) as partial:
        model_folder = partial if destination == folder else partial / name
        (model_folder / VERSION).mkdir(parents=True)
        export_onnx(artefact, model_folder / VERSION / MODEL_FILE)
        if backend == "python":
            shutil.copyfile(PYTHON_MODEL_SOURCE, model_folder / VERSION / PYTHON_MODEL_FILE)
        (model_folder / CONFIG_FILE).write_text(text)
    return folder
