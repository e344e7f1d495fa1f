"""Training speed: generator steps per second of the real training step, by CPU thread count.

    python -m benchmarks.bench_train [--steps 20] [--threads 1,2] [--kind events|showers]

Builds a Trainer on toy data (tests.support.tiny) with the default network sizes and batch,
times ``steps`` training steps (5 critic updates + 1 generator update each) after a warm-up,
and prints steps/s per thread count and the ratio to the first.
"""

from __future__ import annotations

import argparse
import time


def steps_per_second(kind: str, *, threads: int, steps: int) -> float:
    import torch

    from hepgan.training.config import NetworkSettings
    from hepgan.training.devices import resolve_device
    from hepgan.training.trainer import Trainer
    from tests.support.tiny import tiny_config, toy_training_data

    torch.set_num_threads(threads)
    data = toy_training_data(kind, n_events=20_000, seed=0)
    config = tiny_config("/tmp/hepgan-bench-train", data, network=NetworkSettings(), batch_size=256)
    trainer = Trainer(
        config, data, data.split(config), device=resolve_device("cpu"), world=_single()
    )
    trainer.train_step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return steps / (time.perf_counter() - start)


def _single():
    from hepgan.training.distributed import Distributed

    return Distributed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--kind", choices=("events", "showers"), default="events")
    args = parser.parse_args()
    results = {
        int(n): steps_per_second(args.kind, threads=int(n), steps=args.steps)
        for n in args.threads.split(",")
    }
    first = next(iter(results.values()))
    for threads, rate in results.items():
        print(f"{args.kind}: {threads} thread(s): {rate:.2f} steps/s (x{rate / first:.2f})")


if __name__ == "__main__":
    main()
