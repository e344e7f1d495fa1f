"""Small requests against the speed of the stack, each figure a ratio measured in this run.

    python -m benchmarks.bench_small_requests [--model DIR] [--rounds 3] [--seconds 3]
        [--clients 1,8] [--device cpu] [--parts 1,2,3] [--before PYTHON]

Serves a small shower model (``--model DIR``, else the one ``bench_service`` builds)
with ``hepgan serve`` twice, dynamic batching off and on, and a bare FastAPI endpoint
under the same uvicorn (``benchmarks.bare_npz_app``: an npz of 16 x 121 zeros), all
three at once on 127.0.0.1, and measures in ``--rounds`` interleaved rounds (the
order of the servers turns each round, so the machine's drift moves all alike).
``--before PYTHON`` serves, beside them, the hepgan of another environment (a checkout
of the code to compare, installed in its own environment), batching off and on, measured
in the same rounds as "before":

1. requests/s of 16-event npz requests without a report, from N concurrent clients,
   driven two ways: N Python threads with ``httpx`` (the kind of client of the issue)
   and ``wrk`` (compiled, N connections), so the client does not hide the server's
   cost; the ratio hepgan / bare per round (target >= 0.8), and each server's CPU
   time per request (user + system of all its threads, from /proc);
2. one-event request latency with the report off and on, requests alternating on
   one connection: p50 and p99 of each, the ratio of the p50s (target <= 1.5);
3. a 10k-event request with and without the report, in interleaved pairs: the
   median of the pairs' ratios (target <= 10 %).

The load average is printed before each part: on a shared machine read the ratios,
not the absolute figures.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import numpy as np
import orjson

from benchmarks.bench_service import MODEL, SMALL_BATCH, build_model, served, server_arguments
from tests.support.live_server import LiveServer
from tests.support.ports import LOOPBACK, free_port, loopback_url

GENERATE = f"/v1/models/{MODEL}/generate"
SMALL_BODY = orjson.dumps({"n_events": SMALL_BATCH, "format": "npz", "validate": False})
JSON_HEADERS = {"Content-Type": "application/json"}


def load() -> str:
    """The machine's load averages over 1, 5 and 15 minutes."""
    return "load average " + ", ".join(f"{value:.1f}" for value in os.getloadavg())


@contextmanager
def bare_server(log: Path) -> Iterator[LiveServer]:
    """``benchmarks.bare_npz_app`` under uvicorn (httptools, uvloop as hepgan serve)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "benchmarks.bare_npz_app:app"]
    command += ["--host", LOOPBACK, "--port", str(port), "--log-level", "warning"]
    command += ["--http", "httptools"]
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    url = loopback_url(port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.post(url + GENERATE, content=SMALL_BODY, timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the bare server did not start: {log}") from None
                time.sleep(0.2)
        yield LiveServer(url=url, pid=process.pid, api_key=None, log=log)
    finally:
        process.terminate()
        process.wait(timeout=20)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def httpx_requests_per_second(url: str, n_clients: int, seconds: float) -> float:
    """Completed 16-event requests/s from ``n_clients`` threads, each with its own httpx
    client (one keep-alive connection), posting the same body and reading the whole answer."""
    stop = time.monotonic() + seconds
    counts = [0] * n_clients
    barrier = threading.Barrier(n_clients + 1)
    headers = JSON_HEADERS

    def client_loop(index: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            client.post(GENERATE, content=SMALL_BODY, headers=headers).raise_for_status()
            barrier.wait()
            while time.monotonic() < stop:
                client.post(GENERATE, content=SMALL_BODY, headers=headers).raise_for_status()
                counts[index] += 1

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(n_clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.monotonic()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - start)


def wrk_requests_per_second(url: str, n_clients: int, seconds: float, script: Path) -> float:
    """Requests/s that ``wrk`` measures with ``n_clients`` connections (2 threads at most);
    any non-2xx answer fails the benchmark."""
    command = ["wrk", f"-t{min(n_clients, 2)}", f"-c{n_clients}", f"-d{seconds:g}s"]
    result = subprocess.run(
        [*command, "-s", str(script), url + GENERATE], capture_output=True, text=True, check=True
    )
    if "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        raise RuntimeError(f"wrk saw errors:\n{result.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))


def wrk_script(folder: Path) -> Path:
    """The Lua script that makes wrk post the 16-event body."""
    script = folder / "post.lua"
    body = SMALL_BODY.decode().replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    return script


def requests_per_second(
    servers: dict[str, LiveServer],
    clients: list[int],
    *,
    rounds: int,
    seconds: float,
    folder: Path,
) -> None:
    print(f"\n1. {SMALL_BATCH}-event npz requests, no report: requests/s ({load()})")
    for name, server in servers.items():
        answer = httpx.post(server.url + GENERATE, content=SMALL_BODY, headers=JSON_HEADERS)
        size = len(answer.raise_for_status().content)
        print(f"   {name}: body {size} bytes")
    script = wrk_script(folder)
    generators: dict[str, Callable[[str, int], float]] = {
        "httpx": lambda url, n: httpx_requests_per_second(url, n, seconds),
        "wrk": lambda url, n: wrk_requests_per_second(url, n, seconds, script),
    }
    names = list(servers)
    figures: dict[tuple[str, int, str], list[float]] = {}
    cpu: dict[tuple[str, int, str], list[float]] = {}  # server CPU ms per request
    for round_index in range(rounds):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for generator, measure in generators.items():
            for n_clients in clients:
                for name in order:
                    key = (generator, n_clients, name)
                    started = cpu_seconds(servers[name].pid)
                    rate = measure(servers[name].url, n_clients)
                    used = cpu_seconds(servers[name].pid) - started
                    figures.setdefault(key, []).append(rate)
                    cpu.setdefault(key, []).append(1000 * used / (rate * seconds))
    for generator in generators:
        for n_clients in clients:
            bare = figures[(generator, n_clients, "bare")]
            line = f"   {generator:5s} {n_clients:2d} clients: bare " + _rates(bare)
            for name in names[1:]:
                rates = figures[(generator, n_clients, name)]
                ratios = [rate / base for rate, base in zip(rates, bare, strict=True)]
                line += f"; {name} {_rates(rates)}, ratio " + _rates(ratios, "{:.2f}")
                line += f" (median {statistics.median(ratios):.2f})"
            print(line + " (target >= 0.8)")
            medians = (
                f"{name} {statistics.median(cpu[(generator, n_clients, name)]):.2f}"
                for name in names
            )
            print("      server CPU ms per request, medians: " + "; ".join(medians))


def _rates(values: list[float], form: str = "{:.0f}") -> str:
    return "/".join(form.format(value) for value in values)


def one_event_latency(urls: dict[str, str], *, rounds: int, n_requests: int = 200) -> None:
    """p50 and p99 of one-event requests, report off and on alternating on one connection,
    server after server in each round."""
    print(f"\n2. one-event npz requests, report off and on alternating ({load()})")
    for round_index in range(rounds):
        for name, url in urls.items():
            print(f"   round {round_index + 1}, {name}: " + _one_event_round(url, n_requests))


def _one_event_round(url: str, n_requests: int) -> str:
    bodies = {
        validate: orjson.dumps({"n_events": 1, "format": "npz", "validate": validate})
        for validate in (False, True)
    }
    times: dict[bool, list[float]] = {False: [], True: []}
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(n_requests):
            for validate, body in bodies.items():
                start = time.perf_counter()
                client.post(GENERATE, content=body, headers=JSON_HEADERS).raise_for_status()
                times[validate].append(time.perf_counter() - start)
    (off50, off99), (on50, on99) = (
        np.percentile(np.array(times[v]) * 1000, [50, 99]) for v in (False, True)
    )
    return (
        f"report off p50 {off50:.2f} ms, p99 {off99:.2f} ms; on p50 {on50:.2f} ms, "
        f"p99 {on99:.2f} ms: p50 ratio {on50 / off50:.2f} (target <= 1.5)"
    )


def report_overhead(urls: dict[str, str], *, rounds: int, n_pairs: int = 10) -> None:
    """A 10k-event request without and with its report, back to back, ``n_pairs`` per round
    and server."""
    print(f"\n3. 10k-event npz request, report off then on, in pairs ({load()})")
    for round_index in range(rounds):
        for name, url in urls.items():
            print(f"   round {round_index + 1}, {name}: " + _overhead_round(url, n_pairs))


def _overhead_round(url: str, n_pairs: int) -> str:
    ratios, off_times = [], []
    with httpx.Client(base_url=url, timeout=120) as client:
        for _ in range(n_pairs):
            pair = []
            for validate in (False, True):
                body = orjson.dumps(
                    {"n_events": 10_000, "format": "npz", "seed": 5, "validate": validate}
                )
                start = time.perf_counter()
                client.post(GENERATE, content=body, headers=JSON_HEADERS).raise_for_status()
                pair.append(time.perf_counter() - start)
            off_times.append(pair[0])
            ratios.append(pair[1] / pair[0])
    return (
        f"off median {statistics.median(off_times) * 1000:.0f} ms; report adds "
        f"{100 * (statistics.median(ratios) - 1):.0f} % by the median of {n_pairs} pairs "
        f"(quartiles {100 * (np.percentile(ratios, 25) - 1):.0f} to "
        f"{100 * (np.percentile(ratios, 75) - 1):.0f} %; target <= 10 %)"
    )


def main() -> None:
    parser = server_arguments(__doc__.splitlines()[0], device="cpu")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of each part")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one rate figure")
    parser.add_argument("--clients", default="1,8", help="concurrent clients for part 1")
    parser.add_argument("--parts", default="1,2,3", help="which parts to run")
    parser.add_argument(
        "--before", help="a python whose hepgan is the code to compare, served beside this one"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk (scripts/install.sh does)")
    clients = [int(n) for n in args.clients.split(",")]
    parts = {int(n) for n in args.parts.split(",")}
    print(f"{os.cpu_count()} CPUs, server device {args.device}, {load()}")
    versions = {"hepgan": sys.executable, **({"before": args.before} if args.before else {})}
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        folder = Path(scratch)
        models_dir = folder / "models"
        if args.model:  # copied: the service refuses folders that lead outside --models
            shutil.copytree(args.model, models_dir / MODEL, ignore=shutil.ignore_patterns("run"))
        else:
            build_model(models_dir / MODEL)
        servers = {"bare": stack.enter_context(bare_server(folder / "bare.log"))}
        for version, python in versions.items():
            for batching in ("off", "on"):
                servers[f"{version} batching {batching}"] = stack.enter_context(
                    served(
                        models_dir,
                        folder / f"serve-{version}-{batching}.log",
                        python=python,
                        dynamic_batching=batching,
                        device=args.device,
                    )
                )
        unbatched = {name: servers[f"{name} batching off"].url for name in versions}
        if 1 in parts:
            requests_per_second(
                servers, clients, rounds=args.rounds, seconds=args.seconds, folder=folder
            )
        if 2 in parts:
            one_event_latency(unbatched, rounds=args.rounds)
        if 3 in parts:
            report_overhead(unbatched, rounds=args.rounds)


if __name__ == "__main__":
    main()
