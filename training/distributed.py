"""Data-parallel training under ``torchrun``: NCCL on GPUs, gloo on CPUs.

``torchrun --nproc-per-node K -m hepgan.cli train ...`` starts K processes with
RANK, LOCAL_RANK and WORLD_SIZE set; each holds a full copy of the networks
(wrapped in DistributedDataParallel, which averages gradients), reads its own
shard of every batch, and only rank 0 writes checkpoints, history and the
artefact. A single process without those variables runs the same code with a
world of one. Every collective puts its tensors on the rank's device (GPU
LOCAL_RANK under NCCL, which reduces nothing on the CPU).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")  # this rank's device: cuda:LOCAL_RANK on GPUs

    @property
    def is_main(self) -> bool:
        """Only the main process writes files and shows progress."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def shard(self, batch_indices: Any) -> Any:
        """This rank's share of a global batch: every world_size-th index, from ``rank``."""
        return batch_indices[self.rank :: self.world_size]

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any (a collective: all ranks must call)."""
        if not self.enabled:
            return flag
        import torch.distributed as dist

        # On this rank's device: NCCL reduces only tensors on the rank's GPU.
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (picklable Python data from our own processes), by rank.

        Under NCCL the pickled bytes travel on the current CUDA device, which
        :func:`start` sets to this rank's GPU.
        """
        if not self.enabled:
            return [value]
        import torch.distributed as dist

        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def barrier(self) -> None:
        """Wait for every rank; under NCCL on this rank's GPU (not one guessed from the rank)."""
        if self.enabled:
            import torch.distributed as dist

            if self.device.type == "cuda":
                dist.barrier(device_ids=[self.device.index])
            else:
                dist.barrier()

    def wrap(self, module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """DistributedDataParallel around ``module`` (weights broadcast from rank 0)."""
        if not self.enabled:
            return module
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=device_ids)


def rank_device(device: torch.device, local_rank: int) -> torch.device:
    """The device of the process with ``local_rank`` on its node: GPU LOCAL_RANK under CUDA."""
    if device.type == "cuda":
        return torch.device("cuda", local_rank)
    return device


def start(device: torch.device) -> Distributed:
    """Join the process group when launched by torchrun; a world of one on ``device`` otherwise.

    Under torchrun on GPUs every rank takes GPU LOCAL_RANK and makes it the current device.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed(device=device)
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = rank_device(device, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Distributed(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=local_rank,
        device=device,
    )


def stop(context: Distributed) -> None:
    """Leave the process group."""
    if context.enabled:
        import torch.distributed as dist

        dist.destroy_process_group()
