"""In-process generation speed of shower (or event) artefacts, side by side in one run.

    python -m benchmarks.bench_generate --model BEFORE --model AFTER [--events 100000]
        [--threads 2] [--repeats 5]

For each model folder: ``artefact.generate`` of ``events`` events (conditions drawn by the
artefact, fixed seed) after one warm-up call, best of ``repeats`` timings, printed as
events/s. Giving the artefact of the old defaults and of the new ones prints before and
after in one run, on the same machine load.
"""

from __future__ import annotations

import argparse
import time


def events_per_second(folder: str, *, events: int, repeats: int) -> float:
    from hepgan.models.artefact import load_artefact

    artefact = load_artefact(folder)
    artefact.generate(1000, seed=0)  # warm-up
    best = float("inf")
    for repeat in range(repeats):
        start = time.perf_counter()
        artefact.generate(events, seed=repeat)
        best = min(best, time.perf_counter() - start)
    return events / best


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="artefact folder")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for folder in args.model:
        rate = events_per_second(folder, events=args.events, repeats=args.repeats)
        print(f"{folder}: {rate:,.0f} events/s ({args.events:,} per call, {args.threads} threads)")


if __name__ == "__main__":
    main()
