"""Which device a run uses and in which precision its forward passes run."""

from __future__ import annotations

import torch

from hepgan.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """ "auto" -> cuda when available, else cpu; "cuda" without a GPU is a ConfigError."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available")
    return torch.device(name)


def autocast_dtype(setting: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: None (full float32) on the CPU or when "off"."""
    if device.type != "cuda" or setting == "off":
        return None
    if setting == "fp16":
        return torch.float16
    if setting == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16
