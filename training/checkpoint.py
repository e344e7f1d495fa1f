"""Training checkpoints: one safetensors file holding every tensor, with the rest as JSON metadata.

A training checkpoint (``Trainer.state``) holds what ``--resume`` needs to continue
exactly: both networks, both optimizers (Adam moments and step counts), the AMP
grad scaler, the noise generator of every rank (torch generator states, as uint8
tensors), the counters (step, critic batches, learning-rate scale, rollbacks,
world size) and the best validation metric with its step. No numpy random state
is saved because none is kept: each epoch's batch order is drawn afresh from
``default_rng([seed, epoch])``. Nested state (an optimizer's
``state_dict``) is flattened: tensors go into the safetensors payload under
their path (``optimizer_critic/state/3/exp_avg``), everything else into the JSON
stored in the file's metadata. Nothing is pickled.

Writes are atomic: a temporary file in the same folder, fsync, then
``os.replace``; a crash leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from hepgan.atomic import atomic_destination

_TENSOR = "__tensor__"  # marks a leaf that lives in the safetensors payload
_INT_KEYS = "__int_keys__"  # marks a dict whose keys were ints (optimizer state ids)


def _flatten(value: Any, path: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Replace every tensor in ``value`` by a reference, collecting it in ``tensors``."""
    if isinstance(value, torch.Tensor):
        tensors[path] = value.detach().cpu().contiguous()
        return {_TENSOR: path}
    if isinstance(value, dict):
        int_keys = bool(value) and all(isinstance(key, int) for key in value)
        flat = {str(key): _flatten(item, f"{path}/{key}", tensors) for key, item in value.items()}
        return {_INT_KEYS: flat} if int_keys else flat
    if isinstance(value, (list, tuple)):
        return [_flatten(item, f"{path}/{i}", tensors) for i, item in enumerate(value)]
    return value


def _unflatten(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, dict):
        if set(value) == {_TENSOR}:
            return tensors[value[_TENSOR]]
        if set(value) == {_INT_KEYS}:
            return {int(key): _unflatten(item, tensors) for key, item in value[_INT_KEYS].items()}
        return {key: _unflatten(item, tensors) for key, item in value.items()}
    if isinstance(value, list):
        return [_unflatten(item, tensors) for item in value]
    return value


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (nested dicts/lists of tensors and JSON values) atomically to ``path``."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors: dict[str, torch.Tensor] = {}
    structure = _flatten(state, "", tensors)
    with atomic_destination(path, fsync=True) as partial:
        save_file(tensors, str(partial), metadata={"state": json.dumps(structure)})
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors on the CPU)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        structure = json.loads(handle.metadata()["state"])
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    return _unflatten(structure, tensors)
