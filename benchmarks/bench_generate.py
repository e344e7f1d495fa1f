"""Generation on one device by batch size, and the same seed's events on a second device.

    python -m benchmarks.bench_generate [--model DIR [DIR ...]] [--device cuda]
        [--sizes 1,1000,100000] [--repeats 5] [--rounds 1] [--compare-device cpu]
        [--cpu-time --threads 1]

``artefact.generate`` in-process (the models: ``--model DIR ...``, e.g. before and after
a change, timed in turns for ``--rounds`` rounds in one run; else the small shower model
of :mod:`benchmarks.bench_service`, default network) for each batch size:
best wall time of ``--repeats`` calls, from noise to events in physical units as NumPy
(so GPU work is finished), and events/s; beside it the generator network's own forward pass
for the same batch (noise and transformed conditions given, the sampler's batches, output
copied to the host) and the ratio of the two: what the transforms and bookkeeping add.
Then one seed's 10k events on ``--device`` and on ``--compare-device``: the largest
difference relative to each feature's largest value, and the share of values that differ
by more than 1e-4 of it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_service import build_model
from tests.support.timing import best_time

COMPARED_EVENTS = 10_000


def generation_times(
    model: Path, *, device: str, sizes: list[int], repeats: int, cpu_time: bool = False
) -> dict[int, float]:
    """Best seconds per ``generate`` call for each batch size, after a warm-up call: wall
    time, or with ``cpu_time`` this process's CPU time (for the CPU on a shared machine)."""
    from hepgan.models.artefact import load_artefact

    clock = time.process_time if cpu_time else time.perf_counter
    artefact = load_artefact(model).to(device)
    artefact.generate(1000, seed=0, device=device)  # warm-up: kernels, allocator
    return {
        n: best_time(
            lambda n=n: artefact.generate(n, seed=1, device=device), repeats=repeats, clock=clock
        )
        for n in sizes
    }


def network_times(
    model: Path, *, device: str, sizes: list[int], repeats: int, cpu_time: bool = False
) -> dict[int, float]:
    """Best seconds of the generator network alone per batch size: its forward pass over
    the sampler's batches (:func:`~hepgan.models.sampler.default_batch_size`) of given noise
    and transformed conditions, in eval mode without autograd, output copied to the host."""
    import torch

    from hepgan.models.artefact import load_artefact
    from hepgan.models.sampler import default_batch_size

    clock = time.process_time if cpu_time else time.perf_counter
    artefact = load_artefact(model).to(device)
    sampler = artefact.sampler
    generator = sampler.generator.eval()
    batch = default_batch_size(generator.config.n_features)

    def forward(noise: torch.Tensor, conditions: torch.Tensor) -> None:
        with torch.inference_mode():
            for start in range(0, len(noise), batch):
                stop = start + batch
                generator(noise[start:stop], conditions[start:stop]).float().cpu()

    times = {}
    for n in sizes:
        physical = artefact.sample_conditions(n, seed=1)  # (n, C)
        conditions = torch.from_numpy(sampler.condition_transform.forward(physical)).to(device)
        noise = torch.randn(n, generator.config.latent_dim).to(device)
        forward(noise, conditions)  # warm-up
        times[n] = best_time(
            lambda noise=noise, conditions=conditions: forward(noise, conditions),
            repeats=repeats,
            clock=clock,
        )
    return times


def device_agreement(model: Path, *, device: str, other: str) -> tuple[float, float]:
    """(max |a - b| / feature scale, share of values off by > 1e-4 of the scale) for one seed."""
    from hepgan.models.artefact import load_artefact

    first, second = (
        load_artefact(model).generate(COMPARED_EVENTS, seed=7, device=where)
        for where in (device, other)
    )
    scale = np.maximum(np.abs(second).max(axis=0), np.finfo(np.float32).tiny)  # (F,)
    relative = np.abs(first - second) / scale
    return float(relative.max()), float(np.mean(relative > 1e-4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", type=Path, nargs="+", help="artefact folders (default: build one)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="turns over the models")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--sizes", default="1,1000,100000", help="events per generate call")
    parser.add_argument("--repeats", type=int, default=5, help="calls per size; the best counts")
    parser.add_argument("--compare-device", help="also generate one seed here and compare")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time by this process's CPU time instead of wall time (CPU only: a shared "
        "machine's other processes disturb it far less; use with --threads 1)",
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from hepgan.devices import resolve_device

    device = str(resolve_device(args.device))
    sizes = [int(n) for n in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        models = args.model or [build_model(Path(scratch) / "showers")]
        for round_ in range(1, args.rounds + 1):
            for model in models:
                clock = "CPU time" if args.cpu_time else "wall time"
                print(
                    f"round {round_}: generation on {device} ({model}), best {clock} of "
                    f"{args.repeats}"
                )
                timing = dict(device=device, sizes=sizes, repeats=args.repeats)
                network = network_times(model, **timing, cpu_time=args.cpu_time)
                for n, seconds in generation_times(model, **timing, cpu_time=args.cpu_time).items():
                    rate = n / seconds
                    print(
                        f"   {n:7d} events: {seconds * 1000:9.2f} ms, {rate:12.0f} events/s; "
                        f"network alone {network[n] * 1000:9.2f} ms, generate / network "
                        f"{seconds / network[n]:5.2f}"
                    )
        model = models[-1]
        if args.compare_device:
            other = str(resolve_device(args.compare_device, flag="--compare-device"))
            worst, share = device_agreement(model, device=device, other=other)
            print(
                f"same seed, {COMPARED_EVENTS} events, {device} vs {other}: largest difference "
                f"{worst:.2e} of the feature's scale; {share:.2e} of values differ by > 1e-4"
            )


if __name__ == "__main__":
    main()
