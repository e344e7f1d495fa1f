"""The chain of steps that a model stores, and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepgan.models.transforms.columns import (
    ConditionalStandardise,
    DivideByCondition,
    LogOffset,
    QuantileNormal,
    SnapToValues,
    Standardise,
    ZeroBelow,
)
from hepgan.models.transforms.kinematics import MassShellEnergy, PairFrame
from hepgan.models.transforms.showers import EnergyShares
from hepgan.models.transforms.steps import Step

STEP_KINDS: dict[str, type[Step]] = {
    cls.kind: cls
    for cls in (
        DivideByCondition,
        LogOffset,
        ZeroBelow,
        Standardise,
        QuantileNormal,
        SnapToValues,
        MassShellEnergy,
        EnergyShares,
        PairFrame,
        ConditionalStandardise,
    )
}


@dataclass
class FeatureTransform:
    """An ordered chain of steps; ``forward`` applies them in order, ``inverse`` in reverse."""

    steps: list[Step] = field(default_factory=list)

    def forward(self, values: np.ndarray, conditions: np.ndarray | None = None) -> np.ndarray:
        """Physical values (N, F) -> transformed (N, F) float32."""
        out = np.asarray(values, dtype=np.float64)
        for step in self.steps:
            out = step.forward(out, conditions)
        return out.astype(np.float32)

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None = None) -> np.ndarray:
        """Transformed values (N, F) -> physical (N, F) float32."""
        out = np.asarray(values, dtype=np.float64)
        for step in reversed(self.steps):
            out = step.inverse(out, conditions)
        return out.astype(np.float32)

    def output_width(self, input_width: int) -> int:
        """Columns of ``forward``'s output for ``input_width`` physical columns."""
        for step in self.steps:
            input_width = step.output_width(input_width)
        return input_width

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [step.to_dict() for step in self.steps]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureTransform:
        """Rebuild from :meth:`to_dict`; raises ValueError naming an unknown step kind."""
        steps = []
        for spec in data.get("steps", []):
            params = dict(spec)
            kind = params.pop("kind", None)
            if kind not in STEP_KINDS:
                raise ValueError(f"unknown transform step {kind!r}; known: {sorted(STEP_KINDS)}")
            step_class = STEP_KINDS[kind]
            if (
                params.get("columns", ...) is None
                and "columns" not in step_class.__dataclass_fields__
            ):
                # Cards written before whole-row steps had their own base carried columns: null.
                del params["columns"]
            steps.append(step_class(**params))
        return cls(steps)
