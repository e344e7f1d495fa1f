"""Checkpoints: nested state with tensors round-trips exactly; writes are atomic."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import torch

from hepgan.atomic import partial_path
from hepgan.training.checkpoint import load_checkpoint, save_checkpoint


def test_round_trip_of_optimizer_and_random_states(tmp_path: Path) -> None:
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    generator = torch.Generator().manual_seed(5)
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "noise": [generator.get_state()],
        "counters": {"step": 3, "best": None, "lr_scale": 0.5},
    }
    path = save_checkpoint(tmp_path / "last.safetensors", state)
    assert [p.name for p in tmp_path.iterdir()] == ["last.safetensors"]  # no partial file left
    loaded = load_checkpoint(path)
    assert loaded["counters"] == state["counters"]
    for name, tensor in state["model"].items():
        assert torch.equal(loaded["model"][name], tensor)
    restored = torch.optim.Adam(torch.nn.Linear(3, 2).parameters(), lr=1e-3)
    restored.load_state_dict(loaded["optimizer"])  # int parameter ids survive
    groups = [restored.state_dict()["param_groups"], optimizer.state_dict()["param_groups"]]
    assert json.dumps(groups[0]) == json.dumps(groups[1])  # tuples come back as lists
    assert torch.equal(
        restored.state_dict()["state"][0]["exp_avg"], optimizer.state[model.weight]["exp_avg"]
    )
    other = torch.Generator()
    other.set_state(loaded["noise"][0])
    assert torch.equal(torch.rand(4, generator=other), torch.rand(4, generator=generator))


def test_a_failed_write_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_checkpoint(tmp_path / "last.safetensors", {"x": torch.ones(2)})
    before = path.read_bytes()
    partial = partial_path(path)
    written: list[int] = []

    def full_disk(descriptor: int) -> None:
        # The disk fills up as the new checkpoint is flushed: the temporary file is complete.
        written.append(partial.stat().st_size)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        save_checkpoint(path, {"x": torch.zeros(1000), "counters": {"step": 7}})
    assert written and written[0] > len(before)  # it failed after the new file was written
    assert path.read_bytes() == before
    assert not partial.exists()  # and left no partial file behind
