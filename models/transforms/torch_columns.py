"""The column plumbing of the torch steps (:mod:`.torch_ops`): new columns put in place with
one concatenation and one gather, and a function applied to a step's columns only."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from hepgan.models.transforms.steps import ColumnStep

Tensor = torch.Tensor
# A block function: (selected values (N, F_sel), conditions (N, C)) -> (N, F_sel).
BlockFunction = Callable[[Tensor, Tensor], Tensor]


def _replacement_index(width: int, columns: Sequence[int]) -> Tensor:
    """Index into [values (width), new columns] that puts new column k at ``columns[k]``."""
    index = np.arange(width)
    index[np.asarray(columns, dtype=np.int64)] = width + np.arange(len(columns))
    return torch.as_tensor(index, dtype=torch.int64)


class ReplaceColumns(nn.Module):
    """out = values with ``columns`` replaced by ``block``: one concatenation and one gather,
    so a graph over thousands of voxels stays a few nodes."""

    def __init__(self, width: int, columns: Sequence[int]) -> None:
        super().__init__()
        self.register_buffer("index", _replacement_index(width, columns), persistent=False)

    def forward(self, values: Tensor, block: Tensor) -> Tensor:
        return torch.index_select(torch.cat([values, block], dim=1), 1, self.index)


class ColumnBlock(nn.Module):
    """A :class:`ColumnStep` direction: ``function`` on the step's columns, the rest kept."""

    def __init__(self, step: ColumnStep, width: int, function: BlockFunction) -> None:
        super().__init__()
        self.function = function
        self.columns = None if step.columns is None else list(step.columns)
        if self.columns is not None:
            self.register_buffer(
                "selected", torch.as_tensor(self.columns, dtype=torch.int64), persistent=False
            )
            self.replace = ReplaceColumns(width, self.columns)

    def forward(self, values: Tensor, conditions: Tensor) -> Tensor:
        if self.columns is None:
            return self.function(values, conditions)
        block = self.function(torch.index_select(values, 1, self.selected), conditions)
        return self.replace(values, block)
