"""Small artefacts for tests and examples, trained in a few seconds.

    from tests.support.tiny import make_tiny_artefact
    folder = make_tiny_artefact(tmp_path / "toy_events", kind="events")
    folder = make_tiny_artefact(tmp_path / "toy_showers", kind="showers")

The data are toys (two correlated Gaussian energies and a charge; exponential
showers in the "small" geometry), the networks small and the training short
(``steps`` generator steps of the real training loop, on the CPU): the artefact
is complete and valid, with a reference sample and validation scores, but it is
not a good model. Real models come from ``hepgan train``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np


def _toy_events(n_events: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Two correlated Gaussian energies (GeV) and a charge in {-1, +1}."""
    e1 = rng.normal(45.0, 5.0, n_events)
    e2 = 0.5 * e1 + rng.normal(22.0, 3.0, n_events)
    charge = rng.choice([-1, 1], n_events).astype(np.int32)
    return {"E1": e1, "E2": e2, "Q1": charge}


def _toy_showers(n_events: int, rng: np.random.Generator, geometry) -> dict[str, np.ndarray]:
    """Incident energies (N,) MeV, log-uniform 1-100 GeV; voxels (N, V) MeV, exponential profile."""
    energy = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n_events))  # (N,)
    layers, angles, radii = geometry.shape
    profile = np.exp(-np.arange(layers) / 3.0)[:, None, None] * np.exp(-np.arange(radii))
    profile = np.broadcast_to(profile, geometry.shape) / profile.sum() / angles
    fluctuation = rng.gamma(4.0, 0.25, (n_events, *geometry.shape))
    voxels = 0.18 * energy[:, None, None, None] * profile * fluctuation
    voxels[voxels < 0.05] = 0.0  # a readout threshold of 50 keV
    return {"incident_energy": energy, "voxels": voxels.reshape(n_events, -1).astype(np.float32)}


def toy_training_data(kind: Literal["events", "showers"], *, n_events: int, seed: int):
    """A :class:`~hepgan.training.data.TrainingData` of toy events or showers, in memory."""
    from hepgan.datafiles.datasets import flatten_columns
    from hepgan.datafiles.units import guess_unit
    from hepgan.models.geometry import get_geometry
    from hepgan.training.data import TrainingData, output_layout

    rng = np.random.default_rng(seed)
    geometry = get_geometry("small") if kind == "showers" else None
    if kind == "showers":
        columns = _toy_showers(n_events, rng, geometry)
        condition_names = ["incident_energy"]
    else:
        columns = _toy_events(n_events, rng)
        condition_names = []
    features, names = flatten_columns(
        {name: values for name, values in columns.items() if name not in condition_names}
    )
    conditions = [columns[name] for name in condition_names]
    return TrainingData(
        kind=kind,
        features=features,
        conditions=np.column_stack(conditions) if conditions else np.zeros((n_events, 0)),
        feature_names=names,
        feature_units=[guess_unit(name, kind) for name in names],
        condition_names=condition_names,
        condition_units=["MeV"] * len(condition_names),
        output=output_layout(columns, condition_names, tree=kind),
        geometry=geometry,
        files=[],
    )


def tiny_config(folder: str | Path, data, *, steps: int = 20, seed: int = 0, **settings):
    """Settings for a few-second CPU run on ``data``: small networks, validation twice."""
    from hepgan.training.config import NetworkSettings, TrainConfig

    values = dict(
        data=["(toy data from tests.support.tiny)"],
        features=[] if data.kind == "showers" else list(data.feature_names),
        voxels="voxels" if data.kind == "showers" else None,
        condition=data.condition_names[0] if data.condition_names else None,
        out=str(folder),
        seed=seed,
        batch_size=64,
        max_steps=steps,
        max_minutes=None,
        validate_every=max(1, steps // 2),
        validation_events=500,
        network=NetworkSettings(latent_dim=8, generator_hidden=[32, 32], critic_hidden=[32, 32]),
        device="cpu",
        progress=False,
        plot_observables=0,
    )
    values.update(settings)
    return TrainConfig(**values).validate()


def make_tiny_artefact(
    folder: str | Path,
    *,
    kind: Literal["events", "showers"] = "events",
    n_events: int = 2000,
    steps: int = 20,
    seed: int = 0,
    **settings,
) -> Path:
    """Train a small model of ``kind`` on toy data for ``steps`` steps; returns the artefact folder.
    ``settings`` are further :class:`~hepgan.training.config.TrainConfig` fields.

    The run files (history, checkpoints) go to ``folder/run`` as with ``hepgan train``.
    """
    from hepgan.training.loop import run_training

    data = toy_training_data(kind, n_events=n_events, seed=seed)
    result = run_training(tiny_config(folder, data, steps=steps, seed=seed, **settings), data)
    if result.artefact is None:
        raise RuntimeError(f"training of the tiny model was stopped by {result.stopped_by}")
    return result.artefact
