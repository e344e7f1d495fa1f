"""What training fits: the transform of event features, of showers and of conditions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hepgan.errors import ConfigError
from hepgan.models.transforms.acceptance import fit_acceptance
from hepgan.models.transforms.chain import FeatureTransform
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
from hepgan.models.transforms.kinematics import (
    LabPair,
    MassShellEnergy,
    PairFrame,
    four_vector_groups,
)
from hepgan.models.transforms.settings import EventTransformSettings, ShowerTransformSettings
from hepgan.models.transforms.showers import EnergyShares
from hepgan.models.transforms.steps import Step
from hepgan.models.transforms.symmetry import DihedralSymmetry

# Columns with at most this many distinct integer values are treated as discrete (charges, flags).
MAX_DISCRETE_VALUES = 16
# Knots of the quantile transform: enough to follow a peak (the Z mass) closely.
QUANTILE_KNOTS = 1001


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


def fit_event_transform(
    features: np.ndarray,
    feature_names: Sequence[str] | None = None,
    settings: EventTransformSettings | None = None,
) -> FeatureTransform:
    """For flat event features (N, F): with exactly two four-vectors among ``feature_names``
    (E1, px1, py1, pz1, E2, ...) and ``settings.pair_frame``, the pair and decay variables of
    :class:`PairFrame` (``pair_variables`` "decay") or the pair mass and each particle's
    lab-frame direction of :class:`LabPair` ("lab"); other four-vectors put on the mass
    shell (:class:`MassShellEnergy`); discrete columns standardised and snapped back at
    generation; continuous columns
    Gaussianised through their quantiles. With four-vectors and ``settings.acceptance``, the
    pT and |eta| range of each particle in ``features`` is the model's acceptance
    (:func:`~hepgan.models.transforms.acceptance.fit_acceptance`). ``settings``: None for the
    defaults of :class:`EventTransformSettings`."""
    settings = settings or EventTransformSettings()
    steps: list[Step] = []
    groups = four_vector_groups(feature_names or [])
    fitted_acceptance = fit_acceptance(features, groups) if settings.acceptance and groups else None
    if settings.pair_frame and len(groups) == 2:
        pair_step = {"decay": PairFrame, "lab": LabPair}[settings.pair_variables]
        steps.append(pair_step(columns=groups[0] + groups[1]))
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
    return FeatureTransform(steps, fitted_acceptance)


def readout_threshold(voxels: np.ndarray) -> float:
    """The readout threshold (MeV) seen in showers (N, V): just below the smallest deposit,
    so float32 rounding does not zero it on the way back; 0 when every voxel is empty."""
    voxels = np.asarray(voxels)
    positive = voxels[voxels > 0]
    return float(positive.min()) * (1 - 1e-3) if positive.size else 0.0


def fit_shower_transform(
    voxels: np.ndarray,
    incident_energy: np.ndarray,
    settings: ShowerTransformSettings | None = None,
    *,
    shape: tuple[int, int, int] | None = None,
    threshold: float | None = None,
    energy_condition_index: int = 0,
) -> FeatureTransform:
    """For showers: voxels (N, V) MeV and incident energies (N,) MeV, in the layout ``shape``
    (layers, angles, radii) of their geometry (None: unknown, which layer shares and the
    random symmetry need); ``settings``: None for the defaults of
    :class:`ShowerTransformSettings`.

    With ``energy_shares`` (the default): readout threshold, then the voxels' shares of
    the total and the response r = total / E_inc (:class:`EnergyShares`, width V + 1),
    y = ln(share + eps) for the shares, every column standardised by its mean and width
    at the shower's energy (:class:`ConditionalStandardise`). Without:
    f = E_voxel / E_incident, y = ln(f + eps), standardise (width V).
    eps is the ``log_offset_quantile`` quantile of the non-zero shares (fractions), so
    empty voxels (ln eps) sit close below the smallest deposits instead of far away.
    ``layer_shares``: hierarchical shares, within each layer and of the layers (width
    V + L + 1; see :class:`EnergyShares`), each group with its own eps
    (``log_offset_per_layer``: each layer's shares and each layer's fraction with its own);
    the non-zero shares move up by ``gap_fraction`` eps, and generated shares below
    ``empty_share_fraction`` eps read as 0 (:class:`LogOffset`).
    ``hit_mask`` (with energy shares): each share and layer fraction also gets a hit
    indicator that the generator decides, and its standardised value reads 0 where empty
    (:mod:`~hepgan.models.transforms.hit_mask`; width 2 (V + L) + 1).
    ``random_symmetry``: generated showers get a random rotation or reflection of the
    geometry's angular bins (stored with the transform, applied by the sampler).
    ``threshold`` (MeV) is the readout threshold the inverse applies (None:
    :func:`readout_threshold` of ``voxels``); give it when the empty voxels of ``voxels``
    were filled with sub-threshold energies (:func:`dequantise_empty_voxels`).
    """
    settings = settings or ShowerTransformSettings()
    layer_size = _layer_size(settings, shape)
    symmetry = _generation_symmetry(settings, shape)
    voxels = np.asarray(voxels, dtype=np.float64)
    energy = np.asarray(incident_energy, dtype=np.float64)[:, None]  # (N, 1)
    if threshold is None:
        threshold = readout_threshold(voxels)
    n_voxels = voxels.shape[1]
    steps: list[Step] = [ZeroBelow(threshold=threshold)]
    if settings.energy_shares:
        steps.append(EnergyShares(condition_index=energy_condition_index, layer_size=layer_size))
    else:
        steps.append(DivideByCondition(condition_index=energy_condition_index))
    n_layers = n_voxels // layer_size if settings.energy_shares and layer_size else 0
    n_values = n_voxels + n_layers + (1 if settings.energy_shares else 0)  # with the response
    masked = (
        list(range(n_voxels + n_layers)) if settings.hit_mask and settings.energy_shares else []
    )
    if masked:
        steps.append(HitIndicators(columns=masked))
    scaled = FeatureTransform(steps).forward(voxels, energy).astype(np.float64)
    for group in _offset_groups(n_voxels, n_layers, per_layer=settings.log_offset_per_layer):
        if len(group):
            values = scaled[:, list(group)]
            positive = values[values > 0]
            eps = (
                float(np.quantile(positive, settings.log_offset_quantile))
                if positive.size
                else 1e-6
            )
            steps.append(
                LogOffset(
                    columns=list(group),
                    offset=eps,
                    empty_below=settings.empty_share_fraction * eps,
                    gap=settings.gap_fraction * eps,
                )
            )
    partial = FeatureTransform(steps).forward(voxels, energy).astype(np.float64)
    if settings.energy_shares:
        standardise = fit_conditional_standardise(
            partial[:, :n_values], energy[:, 0], condition_index=energy_condition_index
        )
        standardise.columns = list(range(n_values)) if masked else None
        steps.append(standardise)
    else:
        steps.append(_standardise(partial))
    if masked:  # the indicators follow the values: columns n_values, n_values + 1, ...
        indicators = list(range(n_values, n_values + len(masked)))
        steps.append(ZeroWhereEmpty(columns=masked, indicators=indicators))
    return FeatureTransform(steps, symmetry=symmetry)


def _layer_size(settings: ShowerTransformSettings, shape: tuple[int, int, int] | None) -> int:
    """Voxels per layer for hierarchical shares (``layer_shares``), else 0."""
    if not settings.layer_shares:
        return 0
    if shape is None:
        raise ConfigError("shower.layer_shares needs showers (--voxels) with a known geometry")
    _, n_angles, n_radii = shape
    return n_angles * n_radii


def _generation_symmetry(
    settings: ShowerTransformSettings, shape: tuple[int, int, int] | None
) -> DihedralSymmetry | None:
    """The symmetry group generated showers are randomised over (``random_symmetry``, a
    geometry of more than one angular bin), else None."""
    if not settings.random_symmetry:
        return None
    if shape is None:
        raise ConfigError(
            "shower.random_symmetry needs showers (--voxels) with a known geometry: "
            "set random_symmetry = false in [shower] for others"
        )
    return DihedralSymmetry(*shape) if shape[1] > 1 else None


def _offset_groups(n_voxels: int, n_layers: int, *, per_layer: bool) -> list[range]:
    """Columns of the shares-and-fractions layout (V shares, L fractions) that share one eps:
    all shares and all fractions, or ``per_layer`` each layer's shares and each fraction."""
    if not (per_layer and n_layers):
        return [range(n_voxels), range(n_voxels, n_voxels + n_layers)]
    size = n_voxels // n_layers
    shares = [range(layer * size, (layer + 1) * size) for layer in range(n_layers)]
    return shares + [range(n_voxels + layer, n_voxels + layer + 1) for layer in range(n_layers)]


def dequantise_empty_voxels(
    voxels: np.ndarray, threshold: float, rng: np.random.Generator
) -> np.ndarray:
    """Voxels (N, V) MeV with every empty voxel given an energy u * threshold, u ~ U(0, 1):
    below the readout threshold, so the transform's inverse zeroes it again.

    Training data without a point mass at ln(eps): the generator learns a continuous
    density whose part below the threshold means "empty", and which voxels fire is
    decided by the physical threshold instead of by how sharply the generator can hit
    ln(eps) (CaloFlow dequantises its voxels the same way)."""
    voxels = np.array(voxels, dtype=np.float64)  # a copy
    empty = voxels <= 0
    voxels[empty] = rng.uniform(0.0, threshold, size=int(empty.sum()))
    return voxels


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


@dataclass
class FittedTransforms:
    """What :func:`fit_transforms` fits, and the physical training features it fitted them on."""

    features: FeatureTransform
    conditions: FeatureTransform
    # (N, F): the features given, or with ``dequantise`` the showers with filled empty voxels
    training_features: np.ndarray


def fit_transforms(
    kind: str,
    features: np.ndarray,
    conditions: np.ndarray,
    feature_names: Sequence[str],
    *,
    shower: ShowerTransformSettings | None = None,
    events: EventTransformSettings | None = None,
    shower_shape: tuple[int, int, int] | None = None,
    seed: int = 0,
) -> FittedTransforms:
    """Feature and condition transforms for ``kind`` ("showers" or "events"), fitted on
    training features (N, F) and conditions (N, C) in physical units, with the recipes'
    settings (None: their defaults). Showers (geometry layout ``shower_shape``, see
    :func:`fit_shower_transform`): the shower transform at the incident energy
    (condition 0, MeV), whose log the condition transform takes; with ``shower.dequantise``
    the empty voxels are first filled below the readout threshold
    (:func:`dequantise_empty_voxels`, random numbers of ``default_rng([seed, 1])``).
    Events: the event transform and standardised conditions."""
    if kind == "showers":
        shower = shower or ShowerTransformSettings()
        threshold = None
        if shower.dequantise:
            threshold = readout_threshold(features)
            features = dequantise_empty_voxels(
                features, threshold, np.random.default_rng([seed, 1])
            )
        feature_transform = fit_shower_transform(
            features, conditions[:, 0], shower, shape=shower_shape, threshold=threshold
        )
        condition_transform = fit_condition_transform(conditions, log_columns=[0])
    else:
        feature_transform = fit_event_transform(features, feature_names, events)
        condition_transform = fit_condition_transform(conditions)
    return FittedTransforms(feature_transform, condition_transform, features)
