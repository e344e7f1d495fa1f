"""Feature transforms fitted at training time, stored with the model, inverted at generation.

The networks never see physical units: training maps features (MeV voxels, GeV
four-momenta, charges) into a space where every column is roughly N(0, 1), and
generation maps the generator's output back. A transform is a list of steps,
each a small class with ``forward``/``inverse`` and JSON-able parameters, so
the artefact carries numbers only (never code) and serving never refits.

Steps act on the columns listed in ``columns`` (all columns when ``None``).
Some steps need the physical conditions of each event (the incident energy of
a shower): ``forward(x, conditions)``, ``inverse(y, conditions)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

# Columns with at most this many distinct integer values are treated as discrete (charges, flags).
MAX_DISCRETE_VALUES = 16
# Knots of the quantile transform: enough to follow a peak (the Z mass) closely.
QUANTILE_KNOTS = 1001


def _select(columns: list[int] | None) -> np.ndarray | slice:
    return slice(None) if columns is None else np.asarray(columns, dtype=np.intp)


@dataclass
class Step:
    """Base of all steps: which columns it touches; subclasses define the maths."""

    columns: list[int] | None = None
    kind: ClassVar[str] = ""

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        cols = _select(self.columns)
        out[:, cols] = self._forward(out[:, cols], conditions)
        return out

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        cols = _select(self.columns)
        out[:, cols] = self._inverse(out[:, cols], conditions)
        return out

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        params = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {"kind": self.kind, **params}


@dataclass
class DivideByCondition(Step):
    """y = x / c_k: energies as fractions of the incident energy (condition column k)."""

    condition_index: int = 0
    kind: ClassVar[str] = "divide_by_condition"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return x / _condition_column(conditions, self.condition_index)[:, None]

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return y * _condition_column(conditions, self.condition_index)[:, None]


@dataclass
class LogOffset(Step):
    """y = ln(x + offset) for x >= 0; inverse x = max(exp(y) - offset, 0), so never negative."""

    offset: float = 0.0
    kind: ClassVar[str] = "log_offset"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return np.log(np.maximum(x, 0.0) + self.offset)

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return np.maximum(np.exp(np.minimum(y, 700.0)) - self.offset, 0.0)


@dataclass
class ZeroBelow(Step):
    """Readout threshold: forward is the identity; inverse sets x < threshold to exactly 0.

    The threshold is just below the smallest non-zero value seen in training (MeV for
    voxels), so generated showers are as sparse as the detector's.
    """

    threshold: float = 0.0
    kind: ClassVar[str] = "zero_below"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return x

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return np.where(y < self.threshold, 0.0, y)


@dataclass
class Standardise(Step):
    """y = (x - mean) / std per column; inverse x = y std + mean."""

    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    kind: ClassVar[str] = "standardise"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return (x - np.asarray(self.mean)) / np.asarray(self.std)

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return y * np.asarray(self.std) + np.asarray(self.mean)


@dataclass
class ConditionalStandardise(Step):
    """y = (x - m(E)) / s(E) per column, with the mean m and standard deviation s fitted in
    bins of u = ln(E / MeV) (condition column ``condition_index``) and interpolated linearly
    in u between the bins' centres ``knots`` (constant beyond them).

    The generator then meets every column at zero mean and unit width whatever the
    incident energy; how the mean and width change with energy (the calorimeter's
    response and resolution) is carried by the fit. Inverse x = y s(E) + m(E).
    """

    condition_index: int = 0
    knots: list[float] = field(default_factory=list)  # (K,) bin centres in ln(E / MeV)
    mean: list[list[float]] = field(default_factory=list)  # (K, F_selected)
    std: list[list[float]] = field(default_factory=list)  # (K, F_selected)
    kind: ClassVar[str] = "conditional_standardise"

    def _moments(self, conditions: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """m(E), s(E), each (N, F_selected), by linear interpolation in ln E."""
        u = np.log(_condition_column(conditions, self.condition_index))  # (N,)
        knots = np.asarray(self.knots)
        position = np.interp(u, knots, np.arange(len(knots), dtype=np.float64))  # (N,)
        low = np.clip(np.floor(position).astype(np.intp), 0, max(len(knots) - 2, 0))
        high = np.minimum(low + 1, len(knots) - 1)
        weight = (position - low)[:, None]  # (N, 1)
        mean, std = np.asarray(self.mean), np.asarray(self.std)  # (K, F)
        return (
            (1 - weight) * mean[low] + weight * mean[high],
            (1 - weight) * std[low] + weight * std[high],
        )

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        mean, std = self._moments(conditions)
        return (x - mean) / std

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        mean, std = self._moments(conditions)
        return y * std + mean


def fit_conditional_standardise(
    values: np.ndarray, energy: np.ndarray, *, condition_index: int = 0, n_bins: int = 10
) -> ConditionalStandardise:
    """Means and standard deviations (floored at 1e-6) of ``values`` (N, F) in ``n_bins``
    equally populated bins of ln(energy) (N,), the knots at the bins' median ln(energy)."""
    u = np.log(np.asarray(energy, dtype=np.float64))
    order = np.argsort(u)
    bins = np.array_split(order, n_bins)
    return ConditionalStandardise(
        condition_index=condition_index,
        knots=[float(np.median(u[rows])) for rows in bins],
        mean=[values[rows].mean(axis=0).tolist() for rows in bins],
        std=[np.maximum(values[rows].std(axis=0), 1e-6).tolist() for rows in bins],
    )


@dataclass
class QuantileNormal(Step):
    """Gaussianise each column through its empirical CDF: y = Phi^-1(F(x)).

    F is the piecewise-linear interpolation of ``knots`` (column values at the
    probabilities ``probabilities``), clipped to [p_0, p_K-1] so y stays finite;
    the inverse is x = F^-1(Phi(y)), so generated values stay inside the range
    seen in training.
    """

    probabilities: list[float] = field(default_factory=list)
    knots: list[list[float]] = field(default_factory=list)  # (F_selected, K)
    kind: ClassVar[str] = "quantile_normal"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        from scipy.special import ndtri

        probs = np.asarray(self.probabilities)
        u = np.column_stack(
            [np.interp(x[:, j], knots, probs) for j, knots in enumerate(self.knots)]
        )
        return ndtri(u)

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        from scipy.special import ndtr

        probs = np.asarray(self.probabilities)
        u = ndtr(y)
        return np.column_stack(
            [np.interp(u[:, j], probs, knots) for j, knots in enumerate(self.knots)]
        )


@dataclass
class SnapToValues(Step):
    """Discrete columns (charges): forward is the identity; inverse rounds to the nearest value."""

    values: list[list[float]] = field(default_factory=list)  # allowed values of each column
    kind: ClassVar[str] = "snap_to_values"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return x

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.empty_like(y)
        for j, allowed in enumerate(self.values):
            allowed_array = np.asarray(allowed)  # (V,)
            nearest = np.abs(y[:, j, None] - allowed_array[None, :]).argmin(axis=1)
            out[:, j] = allowed_array[nearest]
        return out


@dataclass
class MassShellEnergy(Step):
    """Four-vectors (E, px, py, pz) in GeV: E is replaced by the squared mass m^2 = E^2 - |p|^2.

    The inverse puts E back on the mass shell, E = sqrt(|p|^2 + max(m^2, 0)), so generated
    particles have E >= |p| and pair masses built from generated four-vectors inherit the
    momentum correlations only, not independent errors in E. ``groups`` lists the column
    indices [E, px, py, pz] of each particle.
    """

    groups: list[list[int]] = field(default_factory=list)
    kind: ClassVar[str] = "mass_shell_energy"

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        for e, px, py, pz in self.groups:
            out[:, e] = out[:, e] ** 2 - (out[:, px] ** 2 + out[:, py] ** 2 + out[:, pz] ** 2)
        return out

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        for e, px, py, pz in self.groups:
            momentum_squared = out[:, px] ** 2 + out[:, py] ** 2 + out[:, pz] ** 2
            out[:, e] = np.sqrt(momentum_squared + np.maximum(out[:, e], 0.0))
        return out


def _boost(energy: np.ndarray, momentum: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, ...]:
    """Lorentz boost of four-vectors (E (N,), p (N, 3)) by velocity beta (N, 3), c = 1:
    E' = gamma (E + beta.p), p' = p + (gamma^2 / (gamma + 1) beta.p + gamma E) beta."""
    beta_squared = np.minimum((beta**2).sum(axis=1), 1 - 1e-15)
    gamma = 1 / np.sqrt(1 - beta_squared)
    beta_dot_p = (beta * momentum).sum(axis=1)
    scale = gamma**2 / (gamma + 1) * beta_dot_p + gamma * energy
    return gamma * (energy + beta_dot_p), momentum + scale[:, None] * beta


@dataclass
class PairFrame(Step):
    """Two particles' four-vectors (GeV) -> the pair and its decay (two-body kinematics).

    Columns [E1, px1, py1, pz1, E2, px2, py2, pz2] (indices in ``columns``) become
    [m1^2, M, pT, y, m2^2, phi, cos theta*, phi*]: the particles' squared masses, the pair
    mass M = sqrt((p1 + p2)^2), transverse momentum, rapidity y = 1/2 ln((E + pz)/(E - pz))
    and azimuth, and the direction of particle 1 in the pair rest frame (reached by a pure
    boost). The pair mass is then a generated column, and the inverse rebuilds both
    four-vectors exactly on their mass shells: p* = sqrt((M^2 - (m1 + m2)^2)(M^2 -
    (m1 - m2)^2)) / 2M back to back, boosted by the pair velocity.
    """

    kind: ClassVar[str] = "pair_frame"

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        columns = np.asarray(self.columns)
        e1, p1 = out[:, columns[0]], out[:, columns[1:4]]  # (N,), (N, 3)
        e2, p2 = out[:, columns[4]], out[:, columns[5:8]]
        energy, momentum = e1 + e2, p1 + p2
        mass = np.sqrt(np.maximum(energy**2 - (momentum**2).sum(axis=1), 0.0))
        pt = np.hypot(momentum[:, 0], momentum[:, 1])
        rapidity = 0.5 * np.log((energy + momentum[:, 2]) / (energy - momentum[:, 2]))
        _, rest = _boost(e1, p1, -momentum / energy[:, None])  # particle 1 in the pair frame
        cos_theta = rest[:, 2] / np.maximum(np.linalg.norm(rest, axis=1), 1e-300)
        out[:, columns] = np.column_stack(
            [
                e1**2 - (p1**2).sum(axis=1),
                mass,
                pt,
                rapidity,
                e2**2 - (p2**2).sum(axis=1),
                np.arctan2(momentum[:, 1], momentum[:, 0]),
                cos_theta,
                np.arctan2(rest[:, 1], rest[:, 0]),
            ]
        )
        return out

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        columns = np.asarray(self.columns)
        m1_sq, mass, pt, rapidity, m2_sq, phi, cos_theta, phi_star = out[:, columns].T
        m1, m2 = np.sqrt(np.maximum(m1_sq, 0.0)), np.sqrt(np.maximum(m2_sq, 0.0))
        mass = np.maximum(mass, m1 + m2)
        pt = np.maximum(pt, 0.0)
        p_star = np.sqrt(
            np.maximum((mass**2 - (m1 + m2) ** 2) * (mass**2 - (m1 - m2) ** 2), 0.0)
        ) / (2 * np.maximum(mass, 1e-300))
        cos_theta = np.clip(cos_theta, -1.0, 1.0)
        sin_theta = np.sqrt(1 - cos_theta**2)
        direction = np.column_stack(
            [sin_theta * np.cos(phi_star), sin_theta * np.sin(phi_star), cos_theta]
        )  # (N, 3)
        transverse_mass = np.sqrt(mass**2 + pt**2)
        energy = transverse_mass * np.cosh(rapidity)
        momentum = np.column_stack(
            [pt * np.cos(phi), pt * np.sin(phi), transverse_mass * np.sinh(rapidity)]
        )
        beta = momentum / energy[:, None]
        for offset, sign, particle_mass in ((0, 1.0, m1), (4, -1.0, m2)):
            rest_momentum = sign * p_star[:, None] * direction
            e, p = _boost(np.sqrt(p_star**2 + particle_mass**2), rest_momentum, beta)
            out[:, columns[offset]] = e
            out[:, columns[offset + 1 : offset + 4]] = p
        return out


@dataclass
class EnergyShares(Step):
    """Voxels (N, V) -> their shares of the shower's total and the total over the incident
    energy: [x_i / sum_j x_j, sum_j x_j / E_inc] (N, V + 1).

    The energy response (sum / E_inc) becomes one column the generator learns directly;
    the inverse renormalises the generated shares to sum to 1 and scales them by the
    generated total, x_i = s_i / sum_j s_j * r * E_inc (0 where all shares are 0).
    """

    condition_index: int = 0
    kind: ClassVar[str] = "energy_shares"

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        total = values.sum(axis=1)  # (N,)
        shares = values / np.where(total > 0, total, 1.0)[:, None]  # (N, V)
        response = total / _condition_column(conditions, self.condition_index)  # (N,)
        return np.column_stack([shares, response])  # (N, V + 1)

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        shares = np.maximum(values[:, :-1], 0.0)  # (N, V)
        response = np.maximum(values[:, -1], 0.0)  # (N,)
        total = shares.sum(axis=1)
        normalised = shares / np.where(total > 0, total, 1.0)[:, None]
        energy = response * _condition_column(conditions, self.condition_index)
        return normalised * energy[:, None]  # (N, V)


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
            steps.append(STEP_KINDS[kind](**params))
        return cls(steps)


def _condition_column(conditions: np.ndarray | None, index: int) -> np.ndarray:
    if conditions is None or conditions.ndim != 2 or conditions.shape[1] <= index:
        raise ValueError(f"this transform needs condition column {index}; got {conditions!r:.80}")
    return np.asarray(conditions[:, index], dtype=np.float64)  # (N,)


def _standardise(values: np.ndarray, columns: list[int] | None = None) -> Standardise:
    """Fit mean and std (std floored at 1e-12 so constant columns stay finite)."""
    selected = values if columns is None else values[:, columns]
    std = np.maximum(selected.std(axis=0), 1e-12)
    return Standardise(columns=columns, mean=selected.mean(axis=0).tolist(), std=std.tolist())


def _discrete_values(column: np.ndarray) -> list[float] | None:
    """The sorted distinct values of an integer-valued column with few of them, else None."""
    if not np.all(np.isfinite(column)) or not np.all(column == np.round(column)):
        return None
    distinct = np.unique(column)
    return distinct.tolist() if len(distinct) <= MAX_DISCRETE_VALUES else None


def four_vector_groups(feature_names: Sequence[str]) -> list[list[int]]:
    """Column indices [E, px, py, pz] of every particle whose four names share a suffix
    (``E1, px1, py1, pz1``; ``Muon_E, Muon_px, ...`` style names are not matched)."""
    index = {name: j for j, name in enumerate(feature_names)}
    groups = []
    for name in feature_names:
        if name.startswith("E"):
            suffix = name[1:]
            members = [f"E{suffix}", f"px{suffix}", f"py{suffix}", f"pz{suffix}"]
            if all(member in index for member in members):
                groups.append([index[member] for member in members])
    return groups


def fit_event_transform(
    features: np.ndarray,
    feature_names: Sequence[str] | None = None,
    *,
    pair_frame: bool = True,
) -> FeatureTransform:
    """For flat event features (N, F): with exactly two four-vectors among ``feature_names``
    (E1, px1, py1, pz1, E2, ...) and ``pair_frame``, the pair and decay variables of
    :class:`PairFrame`; other four-vectors put on the mass shell (:class:`MassShellEnergy`);
    discrete columns standardised and snapped back at generation; continuous columns
    Gaussianised through their quantiles."""
    steps: list[Step] = []
    groups = four_vector_groups(feature_names or [])
    if pair_frame and len(groups) == 2:
        steps.append(PairFrame(columns=groups[0] + groups[1]))
    elif groups:
        steps.append(MassShellEnergy(groups=groups))
    features = FeatureTransform(steps).forward(features).astype(np.float64)
    discrete = {j: _discrete_values(features[:, j]) for j in range(features.shape[1])}
    discrete_columns = [j for j, values in discrete.items() if values is not None]
    continuous_columns = [j for j, values in discrete.items() if values is None]
    if continuous_columns:
        probabilities = np.linspace(0.0, 1.0, QUANTILE_KNOTS)
        knots = np.quantile(features[:, continuous_columns], probabilities, axis=0).T  # (F_c, K)
        # Probabilities 0 and 1 would map to infinite y: the outer knots stand half an event in.
        probs = probabilities.copy()
        edge = min(0.5 / len(features), 0.5 * probabilities[1])
        probs[0], probs[-1] = edge, 1 - edge
        steps.append(
            QuantileNormal(
                columns=continuous_columns, probabilities=probs.tolist(), knots=knots.tolist()
            )
        )
    if discrete_columns:
        # Snap first in the chain, so its inverse acts last, on physical values.
        steps.append(
            SnapToValues(columns=discrete_columns, values=[discrete[j] for j in discrete_columns])
        )
        steps.append(_standardise(features, discrete_columns))
    return FeatureTransform(steps)


def fit_shower_transform(
    voxels: np.ndarray,
    incident_energy: np.ndarray,
    *,
    energy_condition_index: int = 0,
    energy_shares: bool = True,
) -> FeatureTransform:
    """For showers: voxels (N, V) MeV and incident energies (N,) MeV.

    With ``energy_shares`` (the default): readout threshold, then the voxels' shares of
    the total and the response r = total / E_inc (:class:`EnergyShares`, width V + 1),
    y = ln(share + eps) for the shares, every column standardised by its mean and width
    at the shower's energy (:class:`ConditionalStandardise`). Without:
    f = E_voxel / E_incident, y = ln(f + eps), standardise (width V).
    eps is the 1st percentile of the non-zero shares (fractions), so empty voxels
    (ln eps) sit close below the smallest deposits instead of far away.
    """
    voxels = np.asarray(voxels, dtype=np.float64)
    energy = np.asarray(incident_energy, dtype=np.float64)[:, None]  # (N, 1)
    positive = voxels[voxels > 0]
    # Just below the smallest deposit, so float32 rounding does not zero it on the way back.
    threshold = float(positive.min()) * (1 - 1e-3) if positive.size else 0.0
    n_voxels = voxels.shape[1]
    steps: list[Step] = [ZeroBelow(threshold=threshold)]
    if energy_shares:
        steps.append(EnergyShares(condition_index=energy_condition_index))
    else:
        steps.append(DivideByCondition(condition_index=energy_condition_index))
    scaled = FeatureTransform(steps).forward(voxels, energy).astype(np.float64)
    positive_scaled = scaled[:, :n_voxels][scaled[:, :n_voxels] > 0]
    eps = float(np.quantile(positive_scaled, 0.01)) if positive_scaled.size else 1e-6
    steps.append(LogOffset(columns=list(range(n_voxels)), offset=eps))
    partial = FeatureTransform(steps).forward(voxels, energy).astype(np.float64)
    if energy_shares:
        steps.append(
            fit_conditional_standardise(
                partial, energy[:, 0], condition_index=energy_condition_index
            )
        )
    else:
        steps.append(_standardise(partial))
    return FeatureTransform(steps)


def fit_condition_transform(
    conditions: np.ndarray, *, log_columns: Sequence[int] = ()
) -> FeatureTransform:
    """Conditions (N, C): ln of the ``log_columns`` (energies over decades), then standardise."""
    conditions = np.asarray(conditions, dtype=np.float64)
    steps: list[Step] = []
    if log_columns:
        steps.append(LogOffset(columns=list(log_columns), offset=0.0))
    partial = FeatureTransform(steps).forward(conditions).astype(np.float64)
    steps.append(_standardise(partial))
    return FeatureTransform(steps)
