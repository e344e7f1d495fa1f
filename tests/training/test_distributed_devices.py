"""Collectives put their tensors on the rank's device: NCCL reduces nothing on the CPU.

Under torchrun on GPUs the process group is NCCL, which only reduces tensors on
the rank's GPU; a CPU tensor fails at the first stop check. Without a GPU the
tests below record what each collective is handed, for a context made for a
device other than the CPU ("meta" exists in every build of torch, and a
``torch.device("cuda", k)`` object needs no GPU), and stop the call there.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.distributed as dist

from hepgan.training.distributed import Distributed, rank_device


class _Handed(Exception):
    """Raised by the recorders once the collective has been handed its arguments."""


def _record(calls: list[dict[str, Any]]):
    def collective(*args: Any, **kwargs: Any) -> None:
        calls.append({"args": args, "kwargs": kwargs})
        raise _Handed

    return collective


def test_any_reduces_a_tensor_on_the_context_device(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(dist, "all_reduce", _record(calls))
    context = Distributed(rank=1, world_size=2, local_rank=1, device=torch.device("meta"))
    with pytest.raises(_Handed):
        context.any(True)
    (tensor,) = calls[0]["args"]
    assert tensor.device == torch.device("meta")


def test_barrier_names_the_rank_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(dist, "barrier", _record(calls))
    with pytest.raises(_Handed):
        Distributed(rank=3, world_size=4, local_rank=1, device=torch.device("cuda", 1)).barrier()
    with pytest.raises(_Handed):
        Distributed(rank=1, world_size=2, local_rank=1).barrier()
    # NCCL's barrier would otherwise guess the GPU from the rank; gloo takes no device ids.
    assert [call["kwargs"].get("device_ids") for call in calls] == [[1], None]


def test_each_rank_trains_on_its_local_gpu() -> None:
    assert rank_device(torch.device("cuda"), 3) == torch.device("cuda", 3)
    assert rank_device(torch.device("cpu"), 3) == torch.device("cpu")


def test_a_world_of_one_makes_no_collective_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    for name in ("all_reduce", "barrier", "all_gather_object"):
        monkeypatch.setattr(dist, name, _record(calls))
    context = Distributed(device=torch.device("meta"))
    assert context.any(True) is True and context.any(False) is False
    assert context.gather("x") == ["x"]
    context.barrier()
    assert calls == []
