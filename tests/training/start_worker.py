"""Run by test_distributed_start.py as one rank of a torchrun job: call ``start(DEVICE)``
and print what it chose as one JSON line.

Usage: RANK=r LOCAL_RANK=l WORLD_SIZE=w MASTER_ADDR=a MASTER_PORT=p python start_worker.py DEVICE

DEVICE "cpu": start() joins the gloo group itself, and the context's collectives run.
DEVICE "cuda" (no GPU needed): ``torch.cuda.set_device`` is replaced by a recorder of the
devices made current, and the process joins a gloo group before start(), which keeps a group
already joined (NCCL would need one GPU per rank); the device choice is start()'s own.
"""

from __future__ import annotations

import json
import sys

import torch
import torch.distributed as dist

from hepgan.training.distributed import start, stop


def main(device_name: str) -> None:
    device = torch.device(device_name)
    made_current: list[torch.device] = []
    if device.type == "cuda":
        torch.cuda.set_device = made_current.append
        dist.init_process_group(backend="gloo")
    context = start(device)
    chosen = {
        "rank": context.rank,
        "world_size": context.world_size,
        "local_rank": context.local_rank,
        "device": str(context.device),
        "made_current": [str(current) for current in made_current],
        "backend": dist.get_backend(),
    }
    if device.type == "cpu":  # the context's collectives, on the group start() joined
        chosen["any_rank_is_1"] = context.any(context.rank == 1)
        chosen["gathered_ranks"] = context.gather(context.rank)
        context.barrier()
    print(json.dumps(chosen), flush=True)
    stop(context)


if __name__ == "__main__":
    main(sys.argv[1])
