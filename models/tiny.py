"""Small artefacts for tests and examples, made in about a second.

    from hepgan.models.tiny import make_tiny_artefact
    folder = make_tiny_artefact(tmp_path / "dimuon", kind="events")
    folder = make_tiny_artefact(tmp_path / "showers", kind="showers")

The data are toys (correlated Gaussians and a charge; exponential showers in the
"small" geometry), the networks small, the generator barely trained: the
artefact is complete and valid, not a good model. Real models come from
``hepgan train``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from hepgan.models.artefact import save_artefact
from hepgan.models.card import ModelCard, OutputColumn, OutputLayout, ReferenceSample
from hepgan.models.networks import GanConfig
from hepgan.models.transforms import (
    fit_condition_transform,
    fit_event_transform,
    fit_shower_transform,
)


def _toy_events(n_events: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Two correlated Gaussian energies (GeV) and a charge in {-1, +1}."""
    e1 = rng.normal(45.0, 5.0, n_events)
    e2 = 0.5 * e1 + rng.normal(22.0, 3.0, n_events)
    charge = rng.choice([-1, 1], n_events).astype(np.int32)
    return {"E1": e1, "E2": e2, "Q1": charge}


def _toy_showers(
    n_events: int, rng: np.random.Generator, geometry
) -> tuple[np.ndarray, np.ndarray]:
    """Incident energies (N,) MeV, log-uniform 1-100 GeV; voxels (N, V) MeV, exponential profile."""
    energy = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n_events))  # (N,)
    layers, angles, radii = geometry.shape
    profile = np.exp(-np.arange(layers) / 3.0)[:, None, None] * np.exp(-np.arange(radii))
    profile = np.broadcast_to(profile, geometry.shape) / profile.sum() / angles
    fluctuation = rng.gamma(4.0, 0.25, (n_events, *geometry.shape))
    voxels = 0.18 * energy[:, None, None, None] * profile * fluctuation
    voxels[voxels < 0.05] = 0.0  # a readout threshold of 50 keV
    return energy, voxels.reshape(n_events, -1).astype(np.float32)


def make_tiny_artefact(
    folder: str | Path,
    *,
    kind: Literal["events", "showers"] = "events",
    n_events: int = 2000,
    seed: int = 0,
) -> Path:
    """Write a small, valid artefact of ``kind`` to ``folder`` and return the folder."""
    import torch

    from hepgan.models.geometry import get_geometry
    from hepgan.models.networks import Generator

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    geometry = None
    if kind == "events":
        columns = _toy_events(n_events, rng)
        names = list(columns)
        features = np.column_stack([columns[name] for name in names])  # (N, F)
        conditions = np.zeros((n_events, 0))
        feature_transform = fit_event_transform(features[: n_events // 2])
        units = ["GeV", "GeV", "e"]
        condition_names: list[str] = []
        output = [
            OutputColumn(name=name, source="features", start=j, stop=j + 1, dtype=str(v.dtype))
            for j, (name, v) in enumerate(columns.items())
        ]
        tree = "events"
    else:
        geometry = get_geometry("small")
        energy, features = _toy_showers(n_events, rng, geometry)
        conditions = energy[:, None]  # (N, 1)
        feature_transform = fit_shower_transform(features[: n_events // 2], energy[: n_events // 2])
        names = [f"voxels[{j}]" for j in range(geometry.n_voxels)]
        units = ["MeV"] * geometry.n_voxels
        condition_names = ["incident_energy"]
        output = [
            OutputColumn(
                name="incident_energy", source="conditions", start=0, stop=1, dtype="float64"
            ),
            OutputColumn(
                name="voxels",
                source="features",
                start=0,
                stop=geometry.n_voxels,
                dtype="float32",
                flat=False,
            ),
        ]
        tree = "showers"
    condition_transform = fit_condition_transform(
        conditions[: n_events // 2], log_columns=[0] if kind == "showers" else []
    )
    config = GanConfig(
        n_features=len(names),
        n_conditions=len(condition_names),
        latent_dim=8,
        generator_hidden=[32, 32],
        critic_hidden=[32, 32],
    )
    generator = Generator(config)
    half = n_events // 2
    card = ModelCard(
        kind="showers" if kind == "showers" else "events",
        description=f"tiny {kind} toy model for tests (untrained)",
        feature_names=names,
        feature_units=units,
        condition_names=condition_names,
        condition_units=["MeV"] * len(condition_names),
        condition_ranges={
            name: (float(conditions[:half, j].min()), float(conditions[:half, j].max()))
            for j, name in enumerate(condition_names)
        },
        geometry=geometry.to_dict() if geometry else None,
        output=OutputLayout(tree=tree, columns=output),
        transforms={
            "features": feature_transform.to_dict(),
            "conditions": condition_transform.to_dict(),
        },
        architecture=config.to_dict(),
        reference=ReferenceSample(file="reference.safetensors", n_events=n_events - half),
        versions={"torch": torch.__version__, "numpy": np.__version__},
    )
    return save_artefact(
        folder,
        card=card,
        generator_state=generator.state_dict(),
        reference_features=features[half:],
        reference_conditions=conditions[half:],
    )
