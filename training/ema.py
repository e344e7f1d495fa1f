"""An exponential moving average of the generator's weights (Polyak averaging).

After every generator step, theta_ema <- d theta_ema + (1 - d) theta, with the
decay warmed up as d_t = min(d, (1 + t) / (10 + t)) so early averages do not
remember the random initial weights. Validation, the checkpoint choice and the
artefact use the averaged weights (:meth:`GeneratorAverage.swapped_in`); the raw
weights keep training. Averaging damps the step-to-step jitter of GAN weights,
which is what made neighbouring checkpoints differ by a factor of two.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class GeneratorAverage:
    """The averaged copy of a module's floating-point parameters and buffers."""

    def __init__(self, module: nn.Module, decay: float) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.average = {name: value.detach().clone() for name, value in module.state_dict().items()}

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """theta_ema <- d_t theta_ema + (1 - d_t) theta, d_t = min(d, (1 + t) / (10 + t))."""
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for name, value in module.state_dict().items():
            if value.dtype.is_floating_point:
                self.average[name].lerp_(value.detach(), 1.0 - decay)
            else:
                self.average[name].copy_(value)
        self.updates += 1

    @contextmanager
    def swapped_in(self, module: nn.Module) -> Iterator[None]:
        """Inside, ``module`` holds the averaged weights; its own come back on exit."""
        own = {name: value.detach().clone() for name, value in module.state_dict().items()}
        module.load_state_dict(self.average)
        try:
            yield
        finally:
            module.load_state_dict(own)

    def state_dict(self) -> dict:
        return {"average": self.average, "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.average = {name: value.clone() for name, value in state["average"].items()}
        self.updates = int(state["updates"])
