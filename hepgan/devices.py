"""The ``--device`` of ``hepgan train`` and ``hepgan generate``, checked before any tensor moves."""

from __future__ import annotations

import torch

from hepgan.errors import ConfigError


def resolve_device(name: str, *, flag: str = "--device") -> torch.device:
    """ "auto" -> cuda when a GPU is present, else cpu; otherwise "cpu", "cuda" or "cuda:N".

    Raises ConfigError naming ``flag`` for another name, or for a GPU that is not there
    (torch itself would fail later with "Torch not compiled with CUDA enabled").
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ConfigError(f"{flag} must be auto, cpu, cuda or cuda:N, got {name!r}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{flag} {name}: no CUDA device is available")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ConfigError(f"{flag} {name}: this machine has {count} CUDA device(s)")
    return device
