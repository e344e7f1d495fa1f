"""The model card: ``model.json`` in every artefact folder, as a pydantic model.

It makes the artefact self-describing: what the model generates (feature and
condition names, units, the condition range seen in training), how to map the
network's output back to physical units (the fitted transforms), how to rebuild
the network (the architecture), where it came from (data files with checksums,
seed, settings, library versions), how good the chosen checkpoint was (its
validation scores), the sha256 of every other file in the folder, and the sha256
of the card itself (:func:`card_sha256`), so an edited card is refused like an
edited weights file: its transforms decide every generated value.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CARD_FORMAT_VERSION = 1
CARD_CHECKSUM_FIELD = "card_sha256"


def card_sha256(card: dict[str, Any]) -> str:
    """Hex sha256 of the card's canonical JSON (keys sorted, no spaces), its own checksum left
    out: the digest of the content, whatever the file's formatting."""
    content = {key: value for key, value in card.items() if key != CARD_CHECKSUM_FIELD}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OutputColumn(_Strict):
    """One branch (ROOT) or dataset of the output, taken from features or conditions."""

    name: str  # branch name, e.g. "voxels", "incident_energy", "M"
    source: Literal["features", "conditions"]
    start: int  # first column of the source array
    stop: int  # one past the last column; stop - start == 1 is a flat branch
    dtype: str  # numpy dtype of the branch in the training input, e.g. "float32", "int32"
    flat: bool = True  # a flat (N,) branch rather than a fixed-size array (N, K)


class OutputLayout(_Strict):
    """How generated events are written: the same layout as the training input."""

    tree: str  # TTree name for ROOT output
    columns: list[OutputColumn]


class DataFile(_Strict):
    """One training input file, identified by its checksum."""

    path: str
    sha256: str
    size_bytes: int


class TrainingProvenance(_Strict):
    """Where the weights came from."""

    seed: int
    loss: Literal["wgan-gp", "bce"]
    config: dict[str, Any]  # the full training configuration (hepgan.training.config)
    data_files: list[DataFile]
    split: dict[str, int]  # n_train, n_validation, n_reference
    steps: int  # generator steps taken in total
    best_step: int  # generator step of the chosen checkpoint
    selection_metric: str  # how the checkpoint was chosen, e.g. "mean KS over observables"
    wall_seconds: float
    device: str


class ReferenceSample(_Strict):
    """The held-out events every validation report compares against."""

    file: str  # a file in the artefact folder (.safetensors, or .npz without pickles)
    n_events: int


class ModelCard(_Strict):
    """Contents of ``model.json``."""

    format_version: Literal[1] = CARD_FORMAT_VERSION
    kind: Literal["showers", "events"]
    description: str = ""
    feature_names: list[str]
    feature_units: list[str]
    condition_names: list[str] = Field(default_factory=list)
    condition_units: list[str] = Field(default_factory=list)
    condition_ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)  # [lo, hi]
    geometry: dict[str, Any] | None = None  # CylindricalGeometry.to_dict() for showers
    output: OutputLayout
    transforms: dict[str, dict[str, Any]]  # {"features": ..., "conditions": ...}
    architecture: dict[str, Any]  # GanConfig.to_dict()
    weights_file: str = "generator.safetensors"
    reference: ReferenceSample
    training: TrainingProvenance | None = None
    validation: dict[str, Any] = Field(default_factory=dict)  # scores of the chosen checkpoint
    versions: dict[str, str] = Field(default_factory=dict)  # python, hepgan, torch, numpy, ...
    checksums: dict[str, str] = Field(default_factory=dict)  # file name -> sha256 (hex)
    card_sha256: str | None = None  # card_sha256() of this card; written by save_artefact

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_conditions(self) -> int:
        return len(self.condition_names)
