"""The training loop on toy data in memory: determinism, exact resume, rollback after a NaN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hepgan.models.artefact import load_artefact
from hepgan.training.checkpoint import load_checkpoint
from hepgan.training.loop import run_training
from hepgan.training.trainer import Trainer, TrainingDivergedError
from tests.support.tiny import tiny_config, toy_training_data


@pytest.fixture(scope="module")
def data():
    return toy_training_data("events", n_events=1500, seed=4)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    state = load_checkpoint(folder / "run" / "last.safetensors")
    return {**state["generator"], **{f"critic.{k}": v for k, v in state["critic"].items()}}


def _assert_same(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> None:
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


def test_same_seed_same_weights_and_artefact(data, tmp_path: Path) -> None:
    results = [
        run_training(tiny_config(tmp_path / name, data, steps=10, seed=3), data)
        for name in ("a", "b")
    ]
    _assert_same(_weights(tmp_path / "a"), _weights(tmp_path / "b"))
    generated = [load_artefact(r.artefact).generate(200, seed=1) for r in results]
    assert np.array_equal(generated[0], generated[1])
    other = run_training(tiny_config(tmp_path / "c", data, steps=10, seed=4), data)
    assert not torch.equal(
        _weights(tmp_path / "a")["net.0.weight"], _weights(tmp_path / "c")["net.0.weight"]
    )
    assert other.step == 10


def test_resume_equals_an_uninterrupted_run(data, tmp_path: Path) -> None:
    run_training(tiny_config(tmp_path / "whole", data, steps=12, validate_every=4), data)
    half = run_training(tiny_config(tmp_path / "split", data, steps=6, validate_every=4), data)
    assert half.step == 6
    resumed = run_training(
        tiny_config(tmp_path / "split", data, steps=12, validate_every=4, resume=True), data
    )
    assert resumed.step == 12
    _assert_same(_weights(tmp_path / "whole"), _weights(tmp_path / "split"))
    # The history of the resumed run continues the first one: one line per validation.
    steps = [r["step"] for r in resumed.history if r.get("event") == "validation"]
    assert steps == [4, 6, 8, 12]


def test_nan_rolls_back_to_the_last_checkpoint(data, tmp_path: Path) -> None:
    seen_steps = []

    def poison_once(trainer: Trainer) -> None:
        seen_steps.append(trainer.step)
        if trainer.step == 7 and trainer.rollbacks == 0:
            with torch.no_grad():
                trainer.generator.net[0].weight.fill_(float("nan"))

    config = tiny_config(tmp_path / "m", data, steps=10, validate_every=5)
    result = run_training(config, data, callbacks=[poison_once])
    assert result.rollbacks == 1
    # Steps 6, 7 ran; the NaN at 7 (seen in step 8's losses) sends the run back to step 5.
    assert seen_steps[:10] == [1, 2, 3, 4, 5, 6, 7, 8, 6, 7]
    assert [r["step"] for r in result.history if r.get("event") == "rollback"] == [8]
    state = load_checkpoint(tmp_path / "m" / "run" / "last.safetensors")
    assert state["counters"]["lr_scale"] == 0.5
    assert all(torch.isfinite(t).all() for t in state["generator"].values())
    assert np.isfinite(load_artefact(result.artefact).generate(100, seed=0)).all()


def test_persistent_divergence_stops_with_an_error(data, tmp_path: Path) -> None:
    def poison(trainer: Trainer) -> None:
        with torch.no_grad():
            trainer.critic.net[0].weight.fill_(float("inf"))

    config = tiny_config(tmp_path / "m", data, steps=10, max_rollbacks=2)
    with pytest.raises(TrainingDivergedError, match="diverged 3 times"):
        run_training(config, data, callbacks=[poison])
    assert not (tmp_path / "m" / "model.json").exists()  # no garbage artefact
