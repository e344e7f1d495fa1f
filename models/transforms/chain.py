"""The chain of steps that a model stores, and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepgan.models.transforms.acceptance import Acceptance
from hepgan.models.transforms.columns import (
    ConditionalStandardise,
    DivideByCondition,
    LogOffset,
    QuantileNormal,
    SnapToValues,
    Standardise,
    ZeroBelow,
)
from hepgan.models.transforms.hit_mask import HitIndicators, ZeroWhereEmpty
from hepgan.models.transforms.kinematics import LabPair, MassShellEnergy, PairFrame
from hepgan.models.transforms.showers import EnergyShares
from hepgan.models.transforms.steps import Step
from hepgan.models.transforms.symmetry import DihedralSymmetry

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
        LabPair,
        ConditionalStandardise,
        HitIndicators,
        ZeroWhereEmpty,
    )
}


@dataclass
class FeatureTransform:
    """An ordered chain of steps; ``forward`` applies them in order, ``inverse`` in reverse.

    ``acceptance`` (None: everywhere) is the region of physical space the training events
    cover; the sampler redraws generated events outside it (:mod:`.acceptance`).
    ``symmetry`` (None: none) is the group of rotations and reflections of a shower geometry;
    the sampler gives each generated shower a random element of it (:mod:`.symmetry`).
    """

    steps: list[Step] = field(default_factory=list)
    acceptance: Acceptance | None = None
    symmetry: DihedralSymmetry | None = None

    def forward(self, values: np.ndarray, conditions: np.ndarray | None = None) -> np.ndarray:
        """Physical values (N, F) -> transformed (N, F) float32."""
        out = np.asarray(values, dtype=np.float64)
        for step in self.steps:
            out = step.forward(out, conditions)
        return out.astype(np.float32)

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None = None) -> np.ndarray:
        """Transformed values (N, F) -> physical (N, F) float32."""
        out = np.array(values, dtype=np.float64)  # the chain's own copy, which steps overwrite
        for step in reversed(self.steps):
            out = step.inverse_owned(out, conditions)
        return out.astype(np.float32)

    def output_width(self, input_width: int) -> int:
        """Columns of ``forward``'s output for ``input_width`` physical columns."""
        for step in self.steps:
            input_width = step.output_width(input_width)
        return input_width

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"steps": [step.to_dict() for step in self.steps]}
        if self.acceptance is not None:
            data["acceptance"] = self.acceptance.to_dict()
        if self.symmetry is not None:
            data["symmetry"] = self.symmetry.to_dict()
        return data

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
        acceptance = data.get("acceptance")  # cards before the acceptance have none
        symmetry = data.get("symmetry")  # nor before the symmetry
        return cls(
            steps,
            Acceptance.from_dict(acceptance) if acceptance is not None else None,
            DihedralSymmetry.from_dict(symmetry) if symmetry is not None else None,
        )
