"""Speed of the HTTP service, each figure a ratio measured in this one run.

    python -m benchmarks.bench_service [--model DIR] [--repeats 3] [--clients 1,8,32]
        [--device auto|cpu|cuda] [--parts 1,2,3,4,5,6]

Serves a small shower model with ``hepgan serve`` in a subprocess on 127.0.0.1
(the model: ``--model DIR``, else one built here with the default network of
``hepgan train``, 3 x 256 hidden units, trained for one step: speed does not
depend on the weights) and measures, best of ``--repeats`` where it applies:

1. 100k events in the binary format (npz) over HTTP with ``hepgan.client`` vs
   ``artefact.generate`` in-process (target: HTTP >= 0.5 x in-process events/s);
2. a 10k-event request with and without its validation report (target: <= 25 %), and a
   20k-event one, in interleaved pairs;
3. orjson, as the service encodes, vs the standard library's json for the same
   10k-event payload (target: >= 5 x);
4. one-event request latency, p50 and p99, with and without the report;
5. requests/s of 16-event requests from N concurrent clients, dynamic batching off and on;
6. the server's peak memory after streamed batches of 20k, 500k and 1M events.

The server generates on ``--device`` (its ``HEPGAN_DEVICE``); ``--parts`` picks the parts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import orjson

from hepgan.client import Client
from tests.support.live_server import LiveServer, serve
from tests.support.timing import best_time

MODEL = "showers"
SMALL_BATCH = 16


def build_model(folder: Path) -> Path:
    """A small-geometry shower model with the default network, trained for one step."""
    from hepgan.training.config import NetworkSettings
    from hepgan.training.loop import run_training
    from tests.support.tiny import tiny_config, toy_training_data

    data = toy_training_data("showers", n_events=10_000, seed=0)
    config = tiny_config(folder, data, steps=1, network=NetworkSettings())
    return run_training(config, data).artefact


@contextmanager
def served(
    models_dir: Path, log: Path, *, python: str = sys.executable, **settings: str
) -> Iterator[LiveServer]:
    """``hepgan serve`` in a subprocess with ``HEPGAN_<SETTING>`` variables, once its models are
    loaded; its output goes to ``log``; ``python``: the interpreter whose hepgan is served."""
    environment = {f"HEPGAN_{key.upper()}": value for key, value in settings.items()}
    with serve(models_dir, log=log, environment=environment, python=python) as server:
        yield server


def throughput(url: str, model_folder: Path, *, repeats: int) -> None:
    from hepgan.models.artefact import load_artefact
    from hepgan.service.settings import Settings

    n_events = 100_000
    chunk = Settings().chunk_events
    artefact = load_artefact(model_folder)
    artefact.generate(1000, seed=0)  # warm up
    in_process = best_time(lambda: artefact.generate(n_events, seed=1), repeats=repeats)
    in_chunks = best_time(
        lambda: artefact.generate(n_events, seed=1, batch_size=chunk), repeats=repeats
    )
    with Client(url) as client:
        over_http = best_time(
            lambda: client.generate(MODEL, n_events, seed=1, validate=False), repeats=repeats
        )
        with_report = best_time(lambda: client.generate(MODEL, n_events, seed=1), repeats=repeats)
    print("\n1. 100k showers, npz over HTTP vs in-process generation")
    print(f"   in-process generate        {n_events / in_process:10.0f} events/s")
    print(f"   in-process, {chunk}-event batches {n_events / in_chunks:6.0f} events/s")
    print(f"   HTTP, no report            {n_events / over_http:10.0f} events/s")
    print(f"   HTTP, report (20k sample)  {n_events / with_report:10.0f} events/s")
    fastest = min(in_process, in_chunks)
    print(
        f"   ratio HTTP / fastest in-process: {fastest / over_http:.2f} (target >= 0.5); "
        f"with report {fastest / with_report:.2f}"
    )


def validation_overhead(url: str, *, repeats: int) -> None:
    """Report on vs off for 10k and 20k events: ``5 * repeats`` pairs of requests, off and on
    back to back, so that the machine's drift (+-20 % here from minute to minute) moves both
    halves of a pair alike; the best of each and the median of the pairs' ratios."""
    print("\n2. request with its validation report vs without (pairs of requests, off then on)")
    with Client(url) as client:
        for n_events, target in ((10_000, " (target <= 25 %)"), (20_000, "")):
            off, on = [], []
            for _ in range(5 * repeats):
                for validate, times in ((False, off), (True, on)):
                    start = time.perf_counter()
                    client.generate(MODEL, n_events, seed=2, validate=validate)
                    times.append(time.perf_counter() - start)
            ratios = sorted(with_report / plain for plain, with_report in zip(off, on, strict=True))
            median = ratios[len(ratios) // 2]
            print(
                f"   {n_events} events: best off {min(off) * 1000:.0f} ms, on {min(on) * 1000:.0f} "
                f"ms: overhead {100 * (min(on) / min(off) - 1):.0f} %{target}; median of "
                f"{len(ratios)} pairs {100 * (median - 1):.0f} % "
                f"(quartiles {100 * (ratios[len(ratios) // 4] - 1):.0f} to "
                f"{100 * (ratios[3 * len(ratios) // 4] - 1):.0f} %)"
            )


def json_encoding(url: str, *, repeats: int) -> None:
    with Client(url) as client:
        batch = client.generate(MODEL, 10_000, seed=3)
    header = {"model": MODEL, "report": batch.report}

    def as_service() -> bytes:
        arrays = {"features": batch.features, "conditions": batch.conditions}
        return orjson.dumps({**header, **arrays}, option=orjson.OPT_SERIALIZE_NUMPY)

    def stdlib() -> str:
        lists = {"features": batch.features.tolist(), "conditions": batch.conditions.tolist()}
        return json.dumps({**header, **lists})

    fast, slow = best_time(as_service, repeats=repeats), best_time(stdlib, repeats=repeats)
    size = len(as_service())
    print("\n3. JSON of a 10k-event batch (120 voxels + energy + report)")
    print(
        f"   orjson from NumPy {fast * 1000:.0f} ms ({size / fast / 1e6:.0f} MB/s), "
        f"stdlib json with tolist() {slow * 1000:.0f} ms: {slow / fast:.1f} x (target >= 5 x)"
    )


def latency(url: str, *, n_requests: int = 300) -> None:
    print("\n4. one-event requests with hepgan.client (npz), sequential, one connection")
    with Client(url) as client:
        for validate in (False, True):
            times = []
            for _ in range(n_requests):
                start = time.perf_counter()
                client.generate(MODEL, 1, validate=validate)
                times.append(time.perf_counter() - start)
            p50, p99 = np.percentile(np.array(times) * 1000, [50, 99])
            print(f"   report {'on ' if validate else 'off'}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def requests_per_second(url: str, n_clients: int, *, seconds: float = 4.0) -> float:
    """Completed 16-event unseeded requests per second from ``n_clients`` client threads."""
    stop = time.monotonic() + seconds
    counts = [0] * n_clients
    barrier = threading.Barrier(n_clients)

    def client_loop(index: int) -> None:
        with Client(url) as client:
            barrier.wait()
            while time.monotonic() < stop:
                client.generate(MODEL, SMALL_BATCH, validate=False)
                counts[index] += 1

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(n_clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - start)


def print_requests_per_second(unbatched: dict[int, float], batched: dict[int, float]) -> None:
    print(f"\n5. {SMALL_BATCH}-event requests (npz, no report), requests/s")
    for n in unbatched:
        print(f"   {n:3d} clients: batching off {unbatched[n]:7.0f}, on {batched[n]:7.0f}")


def streaming_memory(server: LiveServer) -> None:
    """Peak memory after batches of growing size: bounded if it stops growing with n_events."""
    print("\n6. server peak memory (VmHWM) after each npz batch streamed to a file, no report")
    with Client(server.url) as client, tempfile.TemporaryDirectory() as folder:
        for n_events in (20_000, 500_000, 1_000_000):
            path = Path(folder) / f"{n_events}.npz"
            start = time.perf_counter()
            client.download(MODEL, n_events, path, seed=4, validate=False)
            elapsed = time.perf_counter() - start
            peak_mib = server.peak_rss_bytes() / 2**20
            print(
                f"   {n_events:9d} events ({path.stat().st_size / 2**20:4.0f} MiB body, "
                f"{n_events / elapsed:6.0f} events/s): peak {peak_mib:.0f} MiB"
            )


def server_arguments(description: str, *, device: str) -> argparse.ArgumentParser:
    """A parser with the options every service benchmark has: ``--model`` and ``--device``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", type=Path, help="a shower artefact folder (default: build one)")
    parser.add_argument("--device", default=device, help="the server's device: auto, cpu, cuda")
    return parser


def main() -> None:
    parser = server_arguments(__doc__.splitlines()[0], device="auto")
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing; the best counts")
    parser.add_argument("--clients", default="1,8,32", help="concurrent clients for part 5")
    parser.add_argument("--parts", default="1,2,3,4,5,6", help="which parts to run")
    args = parser.parse_args()
    clients = [int(n) for n in args.clients.split(",")]
    parts = {int(n) for n in args.parts.split(",")}
    import torch

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"cuda {'yes' if torch.cuda.is_available() else 'no'}; server device {args.device}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        models_dir = Path(scratch) / "models"
        model = models_dir / MODEL
        if args.model:  # copied: the service refuses folders that lead outside --models
            shutil.copytree(args.model, model, ignore=shutil.ignore_patterns("run"))
        else:
            build_model(model)
        log = Path(scratch) / "serve.log"
        device = args.device
        with served(models_dir, log, dynamic_batching="off", device=device) as server:
            for part, run in (
                (1, lambda: throughput(server.url, model, repeats=args.repeats)),
                (2, lambda: validation_overhead(server.url, repeats=args.repeats)),
                (3, lambda: json_encoding(server.url, repeats=args.repeats)),
                (4, lambda: latency(server.url)),
            ):
                if part in parts:
                    run()
            if 5 in parts:
                unbatched = {n: requests_per_second(server.url, n) for n in clients}
        if 5 in parts:
            with served(models_dir, log, dynamic_batching="on", device=device) as server:
                batched = {n: requests_per_second(server.url, n) for n in clients}
            print_requests_per_second(unbatched, batched)
        if 6 in parts:
            with served(models_dir, log, device=device) as server:  # fresh: its peak memory
                streaming_memory(server)


if __name__ == "__main__":
    main()
