"""The training sample: read the input files, name and unit the columns, split the events.

Events are split once, by a seeded permutation, into a **reference** sample
(held out, stored in the artefact, used by every validation report; never
trained on), a **validation** sample (picks the best checkpoint) and the
**training** sample. The indices (into the concatenated input files) are
written to the run folder (``split.npz``) with the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hepgan.datafiles.units import guess_unit
from hepgan.errors import ConfigError, InputFileError
from hepgan.models.card import DataFile, OutputColumn, OutputLayout
from hepgan.training.config import TrainConfig


@dataclass
class Split:
    """Indices into the input events; disjoint, together all events."""

    train: np.ndarray  # (N_train,)
    validation: np.ndarray  # (N_validation,)
    reference: np.ndarray  # (N_reference,)
    seed: int

    def sizes(self) -> dict[str, int]:
        return {
            "n_train": len(self.train),
            "n_validation": len(self.validation),
            "n_reference": len(self.reference),
        }

    def save(self, path: Path) -> None:
        np.savez(
            path,
            train=self.train,
            validation=self.validation,
            reference=self.reference,
            seed=np.int64(self.seed),
        )


@dataclass
class TrainingData:
    """Everything read from the inputs, in physical units."""

    kind: str  # "showers" or "events"
    features: np.ndarray  # (N, F) float32: voxels (MeV) or event features
    conditions: np.ndarray  # (N, C) float64: e.g. the incident energy (MeV)
    feature_names: list[str]
    feature_units: list[str]
    condition_names: list[str]
    condition_units: list[str]
    output: OutputLayout
    geometry: Any  # CylindricalGeometry for showers, else None
    files: list[DataFile]

    def split(self, config: TrainConfig) -> Split:
        """Seeded split: reference and validation shares, capped in events and bytes."""
        n_events = len(self.features)
        bytes_per_event = 4 * (self.features.shape[1] + self.conditions.shape[1])
        n_reference = min(
            int(config.reference_fraction * n_events),
            config.reference_max_events,
            config.reference_max_bytes // bytes_per_event,
        )
        n_validation = min(int(config.validation_fraction * n_events), config.validation_max_events)
        if n_reference < 1 or n_validation < 1 or n_events - n_reference - n_validation < 2:
            raise ConfigError(
                f"{n_events} events are too few to split into training, validation and reference"
            )
        order = np.random.default_rng(config.seed).permutation(n_events)
        return Split(
            train=np.sort(order[n_reference + n_validation :]),
            validation=np.sort(order[n_reference : n_reference + n_validation]),
            reference=np.sort(order[:n_reference]),
            seed=config.seed,
        )


def load_training_data(config: TrainConfig) -> TrainingData:
    """Read ``config.data`` (ROOT or CaloChallenge HDF5) into a :class:`TrainingData`."""
    from hepgan.datafiles.datasets import flatten_columns, is_hdf5, read_table
    from hepgan.datafiles.input_paths import expand_paths

    files = expand_paths(config.data)
    wanted = [config.voxels] if config.voxels else list(config.features)
    condition_names = [config.condition] if config.condition else []
    overlap = set(wanted) & set(condition_names)
    if overlap:
        raise ConfigError(f"--condition {config.condition} is also a feature; give it once")
    columns = read_table(
        files,
        tree=None if is_hdf5(files[0]) else config.tree,
        branches=wanted + condition_names,
        progress=config.progress,
    )
    if config.max_events is not None:
        columns = {name: values[: config.max_events] for name, values in columns.items()}
    feature_columns = {
        name: values for name, values in columns.items() if name not in condition_names
    }
    features, feature_names = flatten_columns(feature_columns)  # (N, F)
    conditions = (
        np.column_stack([np.asarray(columns[name], dtype=np.float64) for name in condition_names])
        if condition_names
        else np.zeros((len(features), 0))
    )  # (N, C)
    _check_finite(features, feature_names, files)
    _check_finite(conditions, condition_names, files)
    kind = config.kind
    geometry = _shower_geometry(config, files, features.shape[1]) if kind == "showers" else None
    if kind == "showers":
        if len(condition_names) != 1:
            raise ConfigError("--condition: showers need the incident-energy branch as condition")
        if np.any(conditions[:, 0] <= 0):
            raise InputFileError(f"{config.condition} in {files[0]} has non-positive energies")
    return TrainingData(
        kind=kind,
        features=features,
        conditions=conditions,
        feature_names=feature_names,
        feature_units=[guess_unit(name, kind) for name in feature_names],
        condition_names=condition_names,
        condition_units=[guess_unit(name, kind) for name in condition_names],
        output=output_layout(columns, condition_names, tree=config.tree or _default_tree(kind)),
        geometry=geometry,
        files=[_describe_file(path) for path in files],
    )


def _default_tree(kind: str) -> str:
    return "showers" if kind == "showers" else "events"


def output_layout(
    columns: dict[str, np.ndarray], condition_names: list[str], *, tree: str
) -> OutputLayout:
    """One output column per input column, in input order, with its dtype and width."""
    layout: list[OutputColumn] = []
    starts = {"features": 0, "conditions": 0}
    for name, values in columns.items():
        source = "conditions" if name in condition_names else "features"
        width = 1 if values.ndim == 1 else values.shape[1]
        start = starts[source]
        layout.append(
            OutputColumn(
                name=name,
                source=source,
                start=start,
                stop=start + width,
                dtype=str(values.dtype),
                flat=values.ndim == 1,
            )
        )
        starts[source] += width
    # Conditions first, as in the simulators' shower files (incident_energy, voxels).
    layout.sort(key=lambda column: column.source != "conditions")
    return OutputLayout(tree=tree, columns=layout)


def _check_finite(values: np.ndarray, names: list[str], files: list[Path]) -> None:
    bad = ~np.isfinite(values).all(axis=0)
    if bad.any():
        listed = [name for name, flag in zip(names, bad, strict=True) if flag][:5]
        raise InputFileError(f"non-finite values (NaN or inf) in {listed} of {files[0]}")


def _shower_geometry(config: TrainConfig, files: list[Path], n_voxels: int) -> Any:
    """The geometry: --geometry, else the one stored in the first file, else by voxel count."""
    from hepgan.datafiles.metadata import stored_json
    from hepgan.models.geometry import resolve_geometry

    stored = None if config.geometry else stored_json(files[0], "geometry")
    try:
        geometry = resolve_geometry(n_voxels, name=config.geometry, stored=stored)
    except ConfigError as error:
        raise (InputFileError(f"{files[0]}: {error}") if stored else error) from None
    if geometry is None:
        raise ConfigError(f"no geometry preset has {n_voxels} voxels; name one with --geometry")
    return geometry


def _describe_file(path: Path) -> DataFile:
    from hepgan.models.artefact import sha256_of

    return DataFile(
        path=str(path.resolve()), sha256=sha256_of(path), size_bytes=path.stat().st_size
    )
