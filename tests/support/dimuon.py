"""A small dimuon artefact trained on the project's Z -> mu mu simulator, for tests.

    from tests.support.dimuon import make_dimuon_artefact
    folder = make_dimuon_artefact(tmp_path / "dimuon")

Unlike the toy events of :mod:`tests.support.tiny`, its two muons' four-vectors get the
full event transform (PairFrame, QuantileNormal, SnapToValues for the charges), as
``hepgan train`` fits for the CMS-style dimuon files. The model is not a good one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DIMUON_FEATURES = ["E1", "px1", "py1", "pz1", "Q1", "E2", "px2", "py2", "pz2", "Q2"]


def dimuon_training_data(n_events: int, *, seed: int):
    """A :class:`~hepgan.training.data.TrainingData` of ``n_events`` simulated dimuon events."""
    from hepgan.datafiles.datasets import flatten_columns
    from hepgan.datafiles.units import guess_unit
    from hepgan.simulators.dimuon import simulate_dimuon
    from hepgan.training.data import TrainingData, output_layout

    events = simulate_dimuon(n_events, rng=np.random.default_rng(seed))
    columns = {name: events[name] for name in DIMUON_FEATURES}
    features, names = flatten_columns(columns)
    return TrainingData(
        kind="events",
        features=features,
        conditions=np.zeros((n_events, 0)),
        feature_names=names,
        feature_units=[guess_unit(name, "events") for name in names],
        condition_names=[],
        condition_units=[],
        output=output_layout(columns, [], tree="events"),
        geometry=None,
        files=[],
    )


def make_dimuon_artefact(
    folder: str | Path, *, n_events: int = 2000, steps: int = 20, seed: int = 0
) -> Path:
    """Train ``steps`` generator steps on ``n_events`` simulated dimuon events; the artefact."""
    from hepgan.training.loop import run_training
    from tests.support.tiny import tiny_config

    data = dimuon_training_data(n_events, seed=seed)
    result = run_training(tiny_config(folder, data, steps=steps, seed=seed), data)
    if result.artefact is None:
        raise RuntimeError(f"training of the dimuon model was stopped by {result.stopped_by}")
    return result.artefact
