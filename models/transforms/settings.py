"""The settings of the transform recipes: the only copy of their defaults.

:class:`ShowerTransformSettings` and :class:`EventTransformSettings` are what
:func:`~hepgan.models.transforms.recipes.fit_transforms` needs besides the data. Training
reads them from the ``[shower]`` and ``[events]`` tables of its TOML file
(``hepgan.training.config.TrainConfig.shower`` / ``.events``), type-checks them field by
field, and stores them, resolved, in the run's ``options.json`` and the model card.

Adding a setting is a change in two places of this folder and nowhere else:

1. a field here, with its default and a comment that says what it does and its unit (and
   its range check in ``validate``, if it has one);
2. its use in the recipe (:func:`~hepgan.models.transforms.recipes.fit_shower_transform`
   or :func:`~hepgan.models.transforms.recipes.fit_event_transform`).

The TOML table, the type check, the stored configuration and the test that every field
reaches the recipe from TOML (``tests/training/test_transform_settings.py``) follow from
the field. Why each default is what it is: docs/quality.md, "Why the defaults are what
they are".

This module imports nothing heavy: the training configuration imports it at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hepgan.errors import ConfigError

PAIR_VARIABLES = ("decay", "lab")  # the two-particle representations of EventTransformSettings


@dataclass
class ShowerTransformSettings:
    """How showers (voxel energies in MeV at an incident energy in MeV) are transformed.

    eps below is the log offset of y = ln(share + eps): the ``log_offset_quantile``
    quantile of the training data's non-zero shares (dimensionless, as the shares)."""

    # learn the energy response (total / incident) as its own column and the voxels as shares
    # of the total (false: voxels as fractions of the incident energy)
    energy_shares: bool = True
    # give the empty voxels of the training data energies u * threshold, u ~ U(0, 1), below the
    # readout threshold (MeV) that generation applies, so no point mass sits at ln(eps)
    dequantise: bool = False
    # hierarchical shares: within each layer, the layers' fractions of the total, the response
    # (false: each voxel's share of the whole shower); needs a geometry
    layer_shares: bool = True
    # eps as this quantile (0 < q < 1) of the training data's non-zero shares
    log_offset_quantile: float = 0.05
    # non-zero shares move up by this many eps, y = ln(share + eps + gap), so generated values
    # up to ln(eps + gap) read as empty with nothing lost (0: no gap)
    gap_fraction: float = 2.0
    # with layer shares: an eps for each layer's shares and for each layer's fraction, instead
    # of one for all shares and one for all fractions
    log_offset_per_layer: bool = False
    # generated shares below this many eps (0 to 1) read as empty, losing the real shares below
    # it (0: off)
    empty_share_fraction: float = 0.0
    # rotate or reflect each generated shower by a random element of the geometry's symmetry
    # group (equal angular bins), wherever it is generated; false where the physics breaks the
    # symmetry (a magnetic field)
    random_symmetry: bool = True
    # with energy shares (ignored without): each share and layer fraction also gets a hit
    # indicator that the
    # generator decides with a hard threshold (straight-through gradients), and its value reads
    # 0 where empty, so a deep layer can light exactly one voxel or none
    # (hepgan.models.transforms.hit_mask); false with dequantise, symmetry_augmentation or
    # critic_observables, which do not read the indicators
    hit_mask: bool = True

    def validate(self) -> None:
        """Raises ConfigError naming the first setting out of its range."""
        if not 0.0 < self.log_offset_quantile < 1.0:
            raise ConfigError(
                f"shower.log_offset_quantile must be in (0, 1), got {self.log_offset_quantile}"
            )
        if self.gap_fraction < 0:
            raise ConfigError(f"shower.gap_fraction must be >= 0, got {self.gap_fraction}")
        if self.hit_mask and self.dequantise:
            raise ConfigError(
                "shower.hit_mask and shower.dequantise exclude each other (dequantised "
                "training showers have no empty voxels to decide): set one of them false"
            )
        if not 0.0 <= self.empty_share_fraction <= 1.0:
            raise ConfigError(
                f"shower.empty_share_fraction must be in [0, 1], got {self.empty_share_fraction}"
            )


@dataclass
class EventTransformSettings:
    """How flat event features (four-vectors in GeV, charges, other columns) are transformed.
    Adding a setting: as for :class:`ShowerTransformSettings`."""

    # events with two four-vectors (E1, px1, .., pz2): learn the pair mass and the pair frame's
    # variables instead of the eight momenta (false: momenta, energies on the mass shell)
    pair_frame: bool = True
    # the pair frame's variables: "decay" (pair pT, rapidity, azimuth and the decay angles) or
    # "lab" (each particle's eta, the first one's pT and azimuth, their azimuth difference)
    pair_variables: str = field(default="decay", metadata={"choices": PAIR_VARIABLES})
    # redraw generated events whose particles fall outside the pT (GeV) and |eta| range of the
    # training events' particles (the detector's acceptance); needs four-vectors
    acceptance: bool = False

    def validate(self) -> None:
        """Raises ConfigError naming the first setting out of its range."""
        if self.pair_variables not in PAIR_VARIABLES:
            raise ConfigError(
                f"events.pair_variables must be one of {', '.join(PAIR_VARIABLES)}, "
                f"got {self.pair_variables!r}"
            )
