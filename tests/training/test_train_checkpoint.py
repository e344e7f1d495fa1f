"""Checkpoints: nested state with tensors round-trips exactly; writes are atomic."""

from __future__ import annotations

import json
from pathlib import Path

import torch

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


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "last.safetensors", {"x": torch.ones(2)})
    before = path.read_bytes()
    shared = torch.ones(4)
    try:  # two views of one storage: safetensors refuses, mid-write
        save_checkpoint(path, {"a": shared, "b": shared[:2]})
    except Exception:  # noqa: BLE001 - any failure must leave the old file intact
        pass
    assert path.read_bytes() == before
