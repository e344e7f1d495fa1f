"""A :class:`FeatureTransform` as one torch module, in one direction: the exported sampler's
(:mod:`hepgan.models.export.graph`) and the critic's view of physical events
(:mod:`hepgan.models.critic`)."""

from __future__ import annotations

import torch
from torch import nn

from hepgan.models.transforms.chain import FeatureTransform
from hepgan.models.transforms.torch_ops import forward_module, inverse_module


class TransformChain(nn.Module):
    """A :class:`FeatureTransform` in one direction, (values (N, F_in), physical conditions
    (N, C)) -> (N, F_out), float64 (its tables are float64 buffers; ``.float()`` makes a
    float32 chain). ``input_width``: the physical width the transform was fitted on.
    ``differentiable`` (inverse only): without the cuts and safe in float32, for a critic
    that differentiates through it (see :mod:`~hepgan.models.transforms.torch_ops`)."""

    def __init__(
        self,
        transform: FeatureTransform,
        input_width: int,
        *,
        inverse: bool,
        differentiable: bool = False,
    ) -> None:
        super().__init__()
        widths = [input_width]  # widths[i]: columns entering forward step i
        for step in transform.steps:
            widths.append(step.output_width(widths[-1]))
        if inverse:
            modules = [
                inverse_module(step, widths[i + 1], differentiable=differentiable)
                for i, step in enumerate(transform.steps)
            ][::-1]
        elif differentiable:
            raise ValueError("the differentiable mode is the inverse's (inverse=True)")
        else:
            modules = [forward_module(step, widths[i]) for i, step in enumerate(transform.steps)]
        self.steps = nn.ModuleList(modules)

    def forward(self, values: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        for step in self.steps:
            values = step(values, conditions)
        return values
