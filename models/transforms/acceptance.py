"""The detector acceptance that training events show, for particles' four-vectors (GeV).

A simulated or recorded sample only holds particles the detector accepted (a muon
system covers |eta| < 2.4 and triggers above some pT). A generator's continuous output
spills past those edges: a tenth of the dimuon model's events had a muon at |eta| > 2.4
(docs/quality.md), events no detector would have recorded and an easy tell for any
classifier. The sampler therefore redraws events outside the acceptance
(:meth:`hepgan.models.sampler.Sampler.generate`), which gives the model's own
distribution restricted to the region the training data covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def transverse_momentum_and_eta(events: np.ndarray, group: Sequence[int]) -> tuple[np.ndarray, ...]:
    """pT = sqrt(px^2 + py^2) (GeV) and eta = asinh(pz / pT) (N,) of the particle whose
    columns [E, px, py, pz] of ``events`` (N, F) are ``group``; eta = +-inf where pT = 0."""
    values = np.asarray(events, dtype=np.float64)
    px, py, pz = (values[:, column] for column in group[1:4])
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(pz / np.where(pt > 0, pt, 1.0)), np.sign(pz) * np.inf)
    return pt, eta


@dataclass
class Acceptance:
    """Per particle k (columns ``groups[k]`` = [E, px, py, pz], GeV):
    pT >= ``pt_min[k]`` GeV and |eta| <= ``abs_eta_max[k]``."""

    groups: list[list[int]] = field(default_factory=list)
    pt_min: list[float] = field(default_factory=list)
    abs_eta_max: list[float] = field(default_factory=list)

    def contains(self, events: np.ndarray) -> np.ndarray:
        """(N,) bool: the events (N, F) whose every particle is inside the acceptance."""
        inside = np.ones(len(events), dtype=bool)
        for group, pt_min, abs_eta_max in zip(
            self.groups, self.pt_min, self.abs_eta_max, strict=True
        ):
            pt, eta = transverse_momentum_and_eta(events, group)
            inside &= (pt >= pt_min) & (np.abs(eta) <= abs_eta_max)
        return inside

    def to_dict(self) -> dict[str, Any]:
        return {"groups": self.groups, "pt_min": self.pt_min, "abs_eta_max": self.abs_eta_max}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Acceptance:
        """Rebuild from :meth:`to_dict`; raises ValueError when the lists differ in length."""
        acceptance = cls(
            groups=[[int(c) for c in group] for group in data["groups"]],
            pt_min=[float(v) for v in data["pt_min"]],
            abs_eta_max=[float(v) for v in data["abs_eta_max"]],
        )
        if not len(acceptance.groups) == len(acceptance.pt_min) == len(acceptance.abs_eta_max):
            raise ValueError("acceptance: groups, pt_min and abs_eta_max differ in length")
        return acceptance


def fit_acceptance(events: np.ndarray, groups: Sequence[Sequence[int]]) -> Acceptance:
    """The smallest acceptance holding every training event (N, F): per particle the lowest
    pT and the largest |eta| among ``events``, so each training event is inside."""
    pt_min, abs_eta_max = [], []
    for group in groups:
        pt, eta = transverse_momentum_and_eta(events, group)
        pt_min.append(float(pt.min()))
        abs_eta_max.append(float(np.abs(eta).max()))
    return Acceptance(
        groups=[list(map(int, group)) for group in groups], pt_min=pt_min, abs_eta_max=abs_eta_max
    )
