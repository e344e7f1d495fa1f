"""Which generated columns are the shower's layer-level summary: the first stage of a
two-stage generator (:class:`hepgan.models.networks.Generator` with ``stage_one_columns``).

With hierarchical energy shares (:class:`~hepgan.models.transforms.showers.EnergyShares`
with a ``layer_size``) the generator's output is [V shares within layers, L layer fractions
E_l / E, the response E / E_inc, then with ``shower.hit_mask`` one hit indicator per share and
per layer fraction]. The layer fractions, the response and the layer fractions' indicators
say how much energy each layer gets and which layers are empty: the low-dimensional problem
(2 L + 1 columns) that the first stage learns from the incident energy alone.
"""

from __future__ import annotations

from hepgan.errors import ConfigError
from hepgan.models.transforms.hit_mask import gated_columns
from hepgan.models.transforms.showers import EnergyShares


def layer_level_columns(steps: list, n_features: int) -> list[int]:
    """The layer fractions, the response and the layer fractions' hit indicators among the
    ``n_features`` generated columns of a shower chain's ``steps``, in that order.

    Raises ConfigError for a chain without layer shares (events, or ``shower.layer_shares``
    / ``shower.energy_shares`` false): it has no layer-level columns."""
    shares = _layer_shares(steps)
    if shares is None:
        raise ConfigError(
            "network.two_stage needs showers with layer shares ([shower] energy_shares and "
            "layer_shares true, and a known geometry)"
        )
    masked, indicators = gated_columns(steps)
    n_values = n_features - len(indicators)  # V + L + 1
    n_layers = shares.layers_in_output(n_values)
    n_voxels = n_values - n_layers - 1
    layer_level = list(range(n_voxels, n_values))  # the L fractions and the response
    indicator_of = dict(zip(masked, indicators, strict=True))
    return layer_level + [indicator_of[column] for column in layer_level if column in indicator_of]


def hit_layer_size(steps: list) -> int:
    """P, the voxels per layer, for a hit mask over hierarchical shares (the masked columns
    are then the V shares and the L layer fractions: the generator lets each layer's
    decision win over its voxels', :class:`~hepgan.models.networks.GanConfig`); else 0."""
    shares = _layer_shares(steps)
    return shares.layer_size if shares is not None and gated_columns(steps)[0] else 0


def _layer_shares(steps: list) -> EnergyShares | None:
    """The chain's :class:`EnergyShares` step when it has layers (a ``layer_size``), else None."""
    shares = next((step for step in steps if isinstance(step, EnergyShares)), None)
    return shares if shares is not None and shares.layer_size else None
