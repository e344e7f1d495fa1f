"""Training speed: generator steps per second of the real training step.

    python -m benchmarks.bench_train [--steps 20] [--threads 1,2] [--kind events|showers]
        [--device cpu|cuda] [--precision off|bf16|fp16|auto] [--compile]

Builds a Trainer on toy data (tests.support.tiny) with the default network sizes and batch,
times ``steps`` training steps (5 critic updates + 1 generator update each) after a warm-up
step (which also compiles, with ``--compile``), and prints steps/s per CPU thread count and
the ratio to the first. Each step ends by reading its losses, so GPU time is included.
"""

from __future__ import annotations

import argparse
import time


def steps_per_second(
    kind: str,
    *,
    threads: int,
    steps: int,
    device: str = "cpu",
    precision: str = "off",
    compile: bool = False,
) -> tuple[float, float]:
    """(steps/s, seconds of the warm-up step)."""
    import torch

    from hepgan.devices import resolve_device
    from hepgan.training.config import NetworkSettings
    from hepgan.training.distributed import Distributed
    from hepgan.training.trainer import Trainer
    from tests.support.tiny import tiny_config, toy_training_data

    torch.set_num_threads(threads)
    data = toy_training_data(kind, n_events=20_000, seed=0)
    config = tiny_config(
        "/tmp/hepgan-bench-train",
        data,
        network=NetworkSettings(),
        batch_size=256,
        device=device,
        precision=precision,
        compile=compile,
    )
    where = resolve_device(device)
    trainer = Trainer(
        config, data, data.split(config), device=where, world=Distributed(device=where)
    )
    start = time.perf_counter()
    trainer.train_step()  # warm-up
    warm_up = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return steps / (time.perf_counter() - start), warm_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--kind", choices=("events", "showers"), default="events")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--precision", default="off", help="off, bf16, fp16 or auto")
    parser.add_argument("--compile", action="store_true", help="torch.compile the generator")
    args = parser.parse_args()
    settings = f"{args.device}, precision {args.precision}{', compiled' if args.compile else ''}"
    results = {}
    for n in args.threads.split(","):
        results[int(n)] = steps_per_second(
            args.kind,
            threads=int(n),
            steps=args.steps,
            device=args.device,
            precision=args.precision,
            compile=args.compile,
        )
    first = next(iter(results.values()))[0]
    for threads, (rate, warm_up) in results.items():
        print(
            f"{args.kind} ({settings}): {threads} thread(s): {rate:.2f} steps/s "
            f"(x{rate / first:.2f}); warm-up step {warm_up:.1f} s"
        )


if __name__ == "__main__":
    main()
