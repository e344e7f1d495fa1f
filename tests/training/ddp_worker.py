"""Run under torchrun by test_train_distributed.py: train, then save this rank's weights.

Usage: python -m torch.distributed.run --nproc-per-node 2 ddp_worker.py DATA OUT WEIGHTS [DEVICE]

DEVICE is "cpu" (gloo, the default) or "cuda" (NCCL, one GPU per rank).
"""

from __future__ import annotations

import os
import sys

from safetensors.torch import save_file

from hepgan.training.config import NetworkSettings, TrainConfig
from hepgan.training.loop import train
from hepgan.training.trainer import Trainer


def main(data: str, out: str, weights: str, device: str = "cpu") -> None:
    config = TrainConfig(
        data=[data],
        tree="events",
        features=["E1", "px1", "py1", "pz1", "Q1"],
        out=out,
        batch_size=64,
        max_steps=6,
        max_minutes=None,
        validate_every=3,
        validation_events=300,
        network=NetworkSettings(latent_dim=8, generator_hidden=[32], critic_hidden=[32]),
        device=device,
        progress=False,
    )

    def save_weights(trainer: Trainer) -> None:
        if trainer.step == config.max_steps:
            state = {f"generator.{k}": v.cpu() for k, v in trainer.generator.state_dict().items()}
            state.update({f"critic.{k}": v.cpu() for k, v in trainer.critic.state_dict().items()})
            save_file(state, os.path.join(weights, f"rank{trainer.world.rank}.weights"))

    result = train(config, callbacks=[save_weights])
    print(f"rank {os.environ['RANK']} artefact {result.artefact}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
