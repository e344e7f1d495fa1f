"""The model artefact: a folder that training writes and generation and the service read.

Layout::

    model.json              the card (hepgan.models.card.ModelCard), sha256 of every file
                            and of the card itself (card_sha256)
    generator.safetensors   generator weights
    reference.safetensors   held-out reference sample: "features" (M, F), "conditions" (M, C)
    run/                    (optional) the training run: history, plots, checkpoints; never loaded

Loading verifies every checksum (the card's first), reads weights with safetensors only and a
reference in ``.npz`` form with ``allow_pickle=False``, and refuses any other
file at the top level of the folder: nothing in an artefact can execute code.

A small artefact for tests: ``tests.support.tiny.make_tiny_artefact``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import ValidationError

from hepgan.atomic import atomic_destination
from hepgan.errors import ArtefactError, ConfigError
from hepgan.models.card import CARD_CHECKSUM_FIELD, ModelCard, card_sha256
from hepgan.models.output_kinematics import derived_kinematics
from hepgan.models.sampler import Sampler
from hepgan.models.transforms import FeatureTransform

if TYPE_CHECKING:
    import torch

    from hepgan.models.networks import Generator

CARD_FILE = "model.json"
WEIGHTS_FILE = "generator.safetensors"
REFERENCE_FILE = "reference.safetensors"
RUN_FOLDER = "run"
# Formats that hold arrays only; anything else (pickles, torch .pt files) is refused.
ARRAY_SUFFIXES = (".safetensors", ".npz")


def sha256_of(path: str | Path, *, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def save_artefact(
    folder: str | Path,
    *,
    card: ModelCard,
    generator_state: dict[str, torch.Tensor],
    reference_features: np.ndarray,
    reference_conditions: np.ndarray,
) -> Path:
    """Write an artefact folder: weights, reference sample, then ``model.json`` with checksums.

    ``reference_features`` (M, F) and ``reference_conditions`` (M, C) are in
    physical units. Every file is written under a temporary name and renamed
    into place; ``model.json`` goes last, so a reader sees either the old card
    (whose checksums then fail on the new files) or the complete new artefact.
    Returns the folder.
    """
    from safetensors.numpy import save_file as save_numpy
    from safetensors.torch import save_file as save_torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    features = np.ascontiguousarray(reference_features, dtype=np.float32)  # (M, F)
    conditions = np.ascontiguousarray(reference_conditions, dtype=np.float32).reshape(
        len(features), -1
    )  # (M, C)
    if features.shape[1] != card.n_features or conditions.shape[1] != card.n_conditions:
        raise ValueError(
            f"reference shapes {features.shape}, {conditions.shape} do not match the card's "
            f"{card.n_features} features and {card.n_conditions} conditions"
        )
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in generator_state.items()}
    with atomic_destination(folder / WEIGHTS_FILE) as partial:
        save_torch(state, str(partial))
    with atomic_destination(folder / REFERENCE_FILE) as partial:
        save_numpy({"features": features, "conditions": conditions}, str(partial))
    card = card.model_copy(
        update={
            "weights_file": WEIGHTS_FILE,
            "reference": card.reference.model_copy(
                update={"file": REFERENCE_FILE, "n_events": len(features)}
            ),
            "checksums": {
                name: sha256_of(folder / name) for name in (WEIGHTS_FILE, REFERENCE_FILE)
            },
        }
    )
    content = card.model_dump(mode="json")
    content[CARD_CHECKSUM_FIELD] = card_sha256(content)
    text = json.dumps(content, indent=1)
    with atomic_destination(folder / CARD_FILE) as partial:
        partial.write_text(text)
    return folder


def load_artefact(path: str | Path) -> ModelArtefact:
    """Open and verify an artefact folder; raises :class:`ArtefactError` saying what is wrong."""
    folder = Path(path)
    if not folder.is_dir():
        raise ArtefactError(f"model artefact {folder} is not a folder")
    card_path = folder / CARD_FILE
    if not card_path.is_file():
        raise ArtefactError(f"model artefact {folder} has no {CARD_FILE}")
    text = card_path.read_bytes()
    try:
        card = ModelCard.model_validate_json(text)
    except ValidationError as error:
        raise ArtefactError(f"{card_path} is not a valid model card: {error}") from None
    _check_card_checksum(card_path, json.loads(text))
    _check_files(folder, card)
    return ModelArtefact(folder, card)


def _check_card_checksum(card_path: Path, content: dict) -> None:
    """The card's content matches its own ``card_sha256`` (an edited card is refused)."""
    recorded = content.get(CARD_CHECKSUM_FIELD)
    if recorded is None:
        raise ArtefactError(
            f"{card_path} has no {CARD_CHECKSUM_FIELD}: written by an older hepgan or by hand; "
            "save the artefact again with save_artefact"
        )
    if card_sha256(content) != recorded:
        raise ArtefactError(
            f"{card_path} does not match its own sha256 ({CARD_CHECKSUM_FIELD}): "
            "edited after it was saved?"
        )


def _check_files(folder: Path, card: ModelCard) -> None:
    """Every listed file exists, is an array format, matches its checksum; nothing else is there."""
    needed = {card.weights_file, card.reference.file}
    missing_checksums = needed - set(card.checksums)
    if missing_checksums:
        raise ArtefactError(
            f"{folder / CARD_FILE} lists no checksum for {sorted(missing_checksums)}"
        )
    for name, expected in card.checksums.items():
        if Path(name).name != name or not name.endswith(ARRAY_SUFFIXES):
            raise ArtefactError(
                f"{folder / CARD_FILE} lists {name!r}: only plain file names ending in "
                f"{' or '.join(ARRAY_SUFFIXES)} are allowed"
            )
        file = folder / name
        if not file.resolve().is_relative_to(folder.resolve()):
            raise ArtefactError(f"{file} leads outside the artefact folder {folder}: refused")
        if not file.is_file():
            raise ArtefactError(f"model artefact {folder} lacks {name}")
        if sha256_of(file) != expected:
            raise ArtefactError(f"{file} does not match its sha256 in {CARD_FILE}: tampered with?")
    allowed = {CARD_FILE, *card.checksums}
    for entry in folder.iterdir():
        if entry.is_file() and entry.name not in allowed and not entry.name.startswith("."):
            raise ArtefactError(
                f"unexpected file {entry} in model artefact: only {CARD_FILE} and the files "
                f"it lists are allowed"
            )


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Arrays of a ``.safetensors`` or ``.npz`` file (never unpickling)."""
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except ValueError as error:
            raise ArtefactError(f"{path}: {error}") from None
    from safetensors.numpy import load_file

    return load_file(str(path))


class ModelArtefact:
    """A verified artefact: its card, its generator, its transforms and its reference sample."""

    def __init__(self, folder: Path, card: ModelCard) -> None:
        self.folder = folder
        self.name = folder.resolve().name
        self.card = card
        try:
            self.feature_transform = FeatureTransform.from_dict(card.transforms["features"])
            self.condition_transform = FeatureTransform.from_dict(
                card.transforms.get("conditions", {})
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ArtefactError(f"{folder / CARD_FILE}: bad transforms: {error}") from None
        self.generator = self._load_generator()
        self.sampler = Sampler(
            self.generator,
            self.feature_transform,
            self.condition_transform,
            n_features=card.n_features,
        )
        self.device = "cpu"
        self._reference: tuple[np.ndarray, np.ndarray] | None = None

    def _load_generator(self) -> Generator:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from hepgan.models.networks import GanConfig, Generator

        path = self.folder / self.card.weights_file
        try:
            config = GanConfig.from_dict(self.card.architecture)
            generator = Generator(config)
            generator.load_state_dict(load_file(str(path)))
        except (SafetensorError, RuntimeError, TypeError, ValueError) as error:
            raise ArtefactError(f"{path}: cannot load generator weights: {error}") from None
        return generator.eval()

    def to(self, device: str) -> ModelArtefact:
        """Move the generator to ``device`` ("cpu", "cuda", "cuda:1"); returns self."""
        self.generator.to(device)
        self.device = device
        return self

    def reference(self) -> tuple[np.ndarray, np.ndarray]:
        """The held-out reference sample: features (M, F) and conditions (M, C), physical units."""
        if self._reference is None:
            arrays = _read_arrays(self.folder / self.card.reference.file)
            try:
                features = np.asarray(arrays["features"], dtype=np.float32)  # (M, F)
                conditions = np.asarray(arrays["conditions"], dtype=np.float32)  # (M, C)
            except KeyError as error:
                raise ArtefactError(f"reference sample lacks array {error}") from None
            self._reference = (features, conditions.reshape(len(features), -1))
        return self._reference

    def sample_conditions(self, n_events: int, *, seed: int | None = None) -> np.ndarray:
        """Conditions (N, C) drawn with replacement from the reference sample's conditions.

        What :meth:`generate` uses when given no conditions, with the same seed.
        """
        rng = np.random.default_rng(seed)
        reference_conditions = self.reference()[1]
        return reference_conditions[rng.integers(0, len(reference_conditions), n_events)]

    def generate(
        self,
        n_events: int,
        *,
        conditions: np.ndarray | None = None,
        seed: int | None = None,
        device: str = "cpu",
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Generate ``n_events`` events: features (N, F) float32 in physical units.

        ``conditions`` (N, C) in physical units (MeV for incident energies); when
        omitted for a conditional model they are drawn by :meth:`sample_conditions`
        with ``seed``. Generation is :meth:`hepgan.models.sampler.Sampler.generate`:
        the same seed (and ``batch_size``) gives the same noise on any device, the same
        events bit for bit on one machine, and events equal to float32 rounding on
        another device (the module docstring of :mod:`hepgan.models.sampler` says how
        close). ``progress`` gets the number of events of each batch once it is done.
        """
        if n_events < 0:
            raise ConfigError(f"n_events must be >= 0, got {n_events}")
        conditions = self._check_conditions(n_events, conditions, seed)
        if device != self.device:
            self.to(device)
        return self.sampler.generate(
            conditions, seed=seed, device=device, batch_size=batch_size, progress=progress
        )

    def _check_conditions(
        self, n_events: int, conditions: np.ndarray | None, seed: int | None
    ) -> np.ndarray:
        n_conditions = self.card.n_conditions
        if conditions is None:
            if n_conditions == 0:
                return np.zeros((n_events, 0), dtype=np.float64)
            return self.sample_conditions(n_events, seed=seed).astype(np.float64)
        conditions = np.asarray(conditions, dtype=np.float64)
        if conditions.ndim == 1 and n_conditions == 1:
            conditions = conditions[:, None]
        if conditions.shape != (n_events, n_conditions):
            raise ConfigError(
                f"conditions must have shape ({n_events}, {n_conditions}) for "
                f"{self.card.condition_names}, got {conditions.shape}"
            )
        if not np.all(np.isfinite(conditions)):
            raise ConfigError("conditions must be finite numbers")
        return conditions

    def output_columns(self, features: np.ndarray, conditions: np.ndarray) -> dict[str, np.ndarray]:
        """The branches of the training input's layout, e.g. ``incident_energy`` + ``voxels``;
        for event models also the branches derived from four-vectors (pt, eta, phi per
        particle and the pair mass M, :mod:`hepgan.models.output_kinematics`), float64 GeV."""
        sources = {
            "features": np.asarray(features),
            "conditions": np.asarray(conditions).reshape(len(features), -1),
        }
        columns = {}
        for column in self.card.output.columns:
            values = sources[column.source][:, column.start : column.stop]
            columns[column.name] = (values[:, 0] if column.flat else values).astype(column.dtype)
        if self.card.kind == "events":
            derived = derived_kinematics(features, self.card.feature_names)
            columns.update({name: v for name, v in derived.items() if name not in columns})
        return columns

    def output_metadata(self) -> dict[str, str]:
        """Strings stored beside generated events (ROOT objects, HDF5 root attributes): the
        model's name and, for showers, its geometry as JSON under ``geometry``, as in the
        files ``hepgan simulate`` writes."""
        metadata = {"model": self.name}
        if self.card.geometry is not None:
            metadata["geometry"] = json.dumps(self.card.geometry)
        return metadata
