"""The model artefact: round trip, checksums, refusal of pickles and of unexpected files."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from hepgan.errors import ArtefactError, ConfigError
from hepgan.models.artefact import load_artefact
from tests.support.cards import write_resealed_card
from tests.support.tiny import make_tiny_artefact


@pytest.fixture(scope="module")
def events_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_artefact(tmp_path_factory.mktemp("a") / "toy_events", kind="events")


@pytest.fixture(scope="module")
def showers_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_artefact(tmp_path_factory.mktemp("b") / "toy_showers", kind="showers")


def _copy(folder: Path, destination: Path) -> Path:
    destination.mkdir()
    for file in folder.iterdir():
        if file.is_file():  # the run/ folder is not part of what is loaded
            (destination / file.name).write_bytes(file.read_bytes())
    return destination


def test_events_round_trip(events_folder: Path) -> None:
    artefact = load_artefact(events_folder)
    assert artefact.name == "toy_events"
    assert artefact.card.kind == "events"
    features, conditions = artefact.reference()
    # 20 % of the 2000 toy events are held out as the reference sample.
    assert artefact.card.reference.n_events == 400
    assert features.shape == (400, 3) and conditions.shape == (400, 0)
    generated = artefact.generate(500, seed=7, batch_size=128)
    assert generated.shape == (500, 3) and generated.dtype == np.float32
    assert np.array_equal(generated, artefact.generate(500, seed=7))  # batching changes nothing
    assert not np.array_equal(generated, artefact.generate(500, seed=8))
    assert set(np.unique(generated[:, 2])) <= {-1.0, 1.0}
    columns = artefact.output_columns(generated, np.zeros((500, 0)))
    assert list(columns) == ["E1", "E2", "Q1"]
    assert columns["Q1"].dtype == np.int32


def test_showers_generate_non_negative_with_conditions(showers_folder: Path) -> None:
    artefact = load_artefact(showers_folder)
    assert artefact.card.condition_names == ["incident_energy"]
    lo, hi = artefact.card.condition_ranges["incident_energy"]
    assert 1e3 <= lo < hi <= 1e5
    energies = np.full((64, 1), 5e4)  # MeV
    voxels = artefact.generate(64, conditions=energies, seed=1)
    assert voxels.shape == (64, 120) and voxels.min() >= 0.0
    sampled = artefact.sample_conditions(10, seed=3)
    assert sampled.shape == (10, 1) and np.all((sampled >= lo) & (sampled <= hi * 1.5))
    columns = artefact.output_columns(voxels, energies)
    assert columns["voxels"].shape == (64, 120)
    assert columns["incident_energy"].dtype == np.float64
    with pytest.raises(ConfigError, match=r"shape \(64, 1\)"):
        artefact.generate(64, conditions=np.ones((64, 2)))


def test_tampered_weights_are_refused(events_folder: Path, tmp_path: Path) -> None:
    folder = _copy(events_folder, tmp_path / "m")
    weights = folder / "generator.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ArtefactError, match="generator.safetensors does not match its sha256"):
        load_artefact(folder)


def test_pickle_weights_are_refused(events_folder: Path, tmp_path: Path) -> None:
    """A card pointing at a pickle is refused before anything is read, checksum or not."""
    folder = _copy(events_folder, tmp_path / "m")
    (folder / "generator.pt").write_bytes(pickle.dumps({"weights": 1}))
    card = json.loads((folder / "model.json").read_text())
    card["weights_file"] = "generator.pt"
    card["checksums"]["generator.pt"] = "0" * 64
    write_resealed_card(folder, card)
    with pytest.raises(ArtefactError, match="only plain file names ending in .safetensors or .npz"):
        load_artefact(folder)


def test_unexpected_files_are_refused(events_folder: Path, tmp_path: Path) -> None:
    folder = _copy(events_folder, tmp_path / "m")
    (folder / "extra.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ArtefactError, match="unexpected file .*extra.pkl"):
        load_artefact(folder)


def test_missing_and_invalid_cards(tmp_path: Path, events_folder: Path) -> None:
    with pytest.raises(ArtefactError, match="is not a folder"):
        load_artefact(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ArtefactError, match="has no model.json"):
        load_artefact(empty)
    folder = _copy(events_folder, tmp_path / "m")
    card = json.loads((folder / "model.json").read_text())
    card["kind"] = "jets"
    write_resealed_card(folder, card)
    with pytest.raises(ArtefactError, match="not a valid model card"):
        load_artefact(folder)


def test_reference_as_npz_without_pickles(events_folder: Path, tmp_path: Path) -> None:
    from hepgan.models.artefact import sha256_of

    folder = _copy(events_folder, tmp_path / "m")
    features, conditions = load_artefact(events_folder).reference()
    np.savez(folder / "reference.npz", features=features, conditions=conditions)
    (folder / "reference.safetensors").unlink()
    card = json.loads((folder / "model.json").read_text())
    card["reference"]["file"] = "reference.npz"
    del card["checksums"]["reference.safetensors"]
    card["checksums"]["reference.npz"] = sha256_of(folder / "reference.npz")
    write_resealed_card(folder, card)
    assert np.array_equal(load_artefact(folder).reference()[0], features)
    # An object array would need a pickle: np.load(allow_pickle=False) refuses it.
    np.savez(folder / "reference.npz", features=np.array([{"x": 1}], dtype=object))
    card["checksums"]["reference.npz"] = sha256_of(folder / "reference.npz")
    write_resealed_card(folder, card)
    with pytest.raises(ArtefactError, match="reference.npz"):
        load_artefact(folder).reference()


def test_a_card_edited_by_one_character_is_refused(events_folder: Path, tmp_path: Path) -> None:
    """model.json is covered by its own sha256: its transforms decide every generated value."""
    folder = _copy(events_folder, tmp_path / "m")
    text = (folder / "model.json").read_text()
    assert '"seed": 0' in text
    (folder / "model.json").write_text(text.replace('"seed": 0', '"seed": 1', 1))
    with pytest.raises(ArtefactError, match=r"m/model.json does not match its own sha256"):
        load_artefact(folder)
    card = json.loads(text)
    del card["card_sha256"]
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(ArtefactError, match="model.json has no card_sha256"):
        load_artefact(folder)
    (folder / "model.json").write_text(json.dumps(json.loads(text), indent=4))  # reformatted
    assert load_artefact(folder).card.card_sha256 == json.loads(text)["card_sha256"]


def test_a_card_with_an_edited_transform_parameter_is_refused(
    events_folder: Path, tmp_path: Path
) -> None:
    """The card's checksum covers its transforms, which decide every generated value: a
    standardisation's mean moved by one standard deviation is a valid card, and refused."""
    folder = _copy(events_folder, tmp_path / "m")
    card = json.loads((folder / "model.json").read_text())
    step = next(s for s in card["transforms"]["features"]["steps"] if s["kind"] == "standardise")
    step["mean"][0] += step["std"][0]
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(ArtefactError, match=r"m/model.json does not match its own sha256"):
        load_artefact(folder)


def test_generation_runs_in_eval_mode_and_leaves_the_mode_as_it_was(showers_folder: Path) -> None:
    """A training generator is put in eval mode for the call and back after it; one already in
    eval mode (as served) is not toggled; both give the same events for a seed."""
    artefact = load_artefact(showers_folder)
    generator = artefact.generator
    energies = np.full((16, 1), 2e4)  # MeV
    generator.train()
    from_training = artefact.generate(16, conditions=energies, seed=4)
    assert generator.training and all(module.training for module in generator.modules())
    generator.eval()
    from_eval = artefact.generate(16, conditions=energies, seed=4)
    assert not any(module.training for module in generator.modules())
    np.testing.assert_array_equal(from_training, from_eval)


def test_generate_reports_each_batch_and_keeps_the_events(events_folder: Path) -> None:
    artefact = load_artefact(events_folder)
    done: list[int] = []
    events = artefact.generate(250, seed=4, batch_size=100, progress=done.append)
    assert done == [100, 100, 50]
    np.testing.assert_array_equal(events, artefact.generate(250, seed=4, batch_size=100))
