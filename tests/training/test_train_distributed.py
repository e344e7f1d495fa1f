"""Two processes under torchrun: identical weights on both ranks, one artefact.

On the CPU (gloo) everywhere; on two GPUs (NCCL, one per rank) where a machine has them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from hepgan.models.artefact import load_artefact

TWO_GPUS = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not torch.cuda.is_available() or torch.cuda.device_count() < 2,
        reason="NCCL data parallelism needs two GPUs (one per rank)",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=TWO_GPUS)])
def test_two_process_ddp_run(tmp_path: Path, device: str) -> None:
    data = tmp_path / "dimuon.root"
    subprocess.run(
        ["hepgan", "simulate", "dimuon", "-n", "2000", "--seed", "5", "-o", str(data)], check=True
    )
    out = tmp_path / "model"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # rendezvous on a free local port
        "--nproc-per-node",
        "2",
        str(Path(__file__).with_name("ddp_worker.py")),
        str(data),
        str(out),
        str(tmp_path),
        device,
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stderr[-3000:]
    ranks = [load_file(str(tmp_path / f"rank{rank}.weights")) for rank in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys()
    for name in ranks[0]:
        assert torch.equal(ranks[0][name], ranks[1][name]), name
    # Only rank 0 wrote the artefact; rank 1 reports none.
    assert f"rank 0 artefact {out}" in finished.stdout
    assert "rank 1 artefact None" in finished.stdout
    artefact = load_artefact(out)
    assert artefact.card.training.device == f"{device} x 2"
    assert artefact.card.training.steps == 6
