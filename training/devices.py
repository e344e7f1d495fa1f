"""In which precision a run's forward passes run (the device itself: hepgan.devices)."""

from __future__ import annotations

import torch

from hepgan.errors import ConfigError


def autocast_dtype(setting: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype; None means full float32.

    "off": float32. "bf16": bfloat16 on any device (CPU autocast supports it).
    "fp16": float16 with loss scaling, CUDA only. "auto": bf16 on GPUs that support
    it, else fp16 on CUDA; float32 on the CPU, where bf16 is opt-in (8 bits of
    mantissa, and its speed depends on the CPU's own bf16 support).
    """
    if setting == "off":
        return None
    if setting == "bf16":
        return torch.bfloat16
    if device.type != "cuda":
        if setting == "fp16":
            raise ConfigError("precision fp16 needs CUDA; on the CPU use bf16 or off")
        return None
    if setting == "fp16" or not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16
