"""Exact symmetries of a cylindrical geometry with equal angular bins, used as augmentation
(the group and its permutations: :mod:`hepgan.models.transforms.symmetry`).

The feature transform standardises each voxel column with its own fitted mean and
width; :func:`symmetrise_shower_transform` averages those over each column's orbit,
so the transform commutes with every permutation and the augmentation can act on
transformed batches directly (the response column stays in place).
"""

from __future__ import annotations

import numpy as np
import torch

from hepgan.models.transforms import FeatureTransform
from hepgan.models.transforms.columns import ConditionalStandardise


def symmetrise_shower_transform(transform: FeatureTransform, permutations: np.ndarray) -> None:
    """Average the conditional standardisation's means and widths over each column's orbit
    under ``permutations`` (G, F), in place, so forward(x[:, p]) = forward(x)[:, p] for all p."""
    step = transform.steps[-1]
    if not isinstance(step, ConditionalStandardise) or step.columns is not None:
        raise ValueError("symmetry augmentation needs the energy-shares shower transform")
    for name in ("mean", "std"):
        values = np.asarray(getattr(step, name))  # (K, F)
        setattr(step, name, values[:, permutations].mean(axis=1).tolist())


class RandomSymmetry:
    """Applies an independent random group element to each row of a transformed batch."""

    def __init__(self, permutations: np.ndarray, device: torch.device) -> None:
        self.permutations = torch.as_tensor(permutations, dtype=torch.long, device=device)

    def __call__(self, features: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        choice = torch.randint(len(self.permutations), (len(features),), generator=generator)
        return features.gather(1, self.permutations[choice.to(features.device)])
