"""The same generator behind our service and behind the servers a physicist would deploy instead.

    python -m benchmarks.peers [--model DIR] [--clients 1,8] [--sizes 16,10000]
        [--requests 20] [--servers ours,triton,kserve,bare] [--kserve-python PYTHON]

One run, one process tree, all on 127.0.0.1:
- ``ours``: ``hepgan serve`` (:func:`benchmarks.bench_service.served`), ``/v1`` npz (httpx)
  and ``/v2`` binary tensors (tritonclient), the validation report off and on;
- ``triton``: the real Triton Inference Server of the ``nvidia-pytriton`` wheel
  (:mod:`tests.support.triton_server`) serving ``hepgan export --backend python``;
- ``kserve``: KServe's ``ModelServer`` with a model class calling the artefact
  (:mod:`benchmarks.kserve_app`), run by ``--kserve-python``, a Python with the ``kserve``
  package (not a dependency: see docs/benchmarks.md);
- ``bare``: :mod:`benchmarks.bare_generate_app`, a bare FastAPI endpoint calling the same
  ``artefact.generate`` in-process and answering an npz (httpx).

The Open Inference Protocol servers get the same request from the same client (tritonclient
over HTTP, binary tensors): ``noise`` (N, Z) and ``conditions`` (N, C) fixed for the run; the
others the same ``/v1`` body (httpx). Each of ``--clients`` threads sends ``--requests``
requests of each size (a bounded loop, after one warm-up request); reported: requests/s and
events/s over the wall time, p50 and p99 latency, and the ratio of requests/s to ours on the
same protocol with the report off. Before timing, each OIP server's events for the request
are checked against ours (:func:`check_same_events`). The model is ``--model DIR`` or one
built here with ``hepgan train``'s default network (speed does not depend on the weights).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import orjson

from benchmarks.bench_service import MODEL, build_model, served
from tests.support.ports import LOOPBACK, free_port, loopback_url
from tests.support.processes import stop
from tests.support.triton_server import missing_reason, triton_server

SERVERS = ("ours", "triton", "kserve", "bare")
MAX_ULPS = 4  # the export's tolerance (tests/models/test_export.py, docs/onnx.md)
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Target:
    """One thing to measure: a server, its protocol (``v1`` httpx or ``v2`` tritonclient),
    its address and whether the validation report is asked for."""

    server: str
    protocol: str
    address: str
    report: bool = False

    @property
    def label(self) -> str:
        report = " report on" if self.report else ""
        return f"{self.server} /{self.protocol}{report}"


def _v1_caller(address: str, n_events: int, report: bool) -> Callable[[], Callable[[], None]]:
    """A factory of per-thread callers sending one ``/v1`` npz request of ``n_events``."""
    body = orjson.dumps({"n_events": n_events, "format": "npz", "validate": report})

    def make() -> Callable[[], None]:
        client = httpx.Client(base_url=address, timeout=300)

        def call() -> None:
            response = client.post(f"/v1/models/{MODEL}/generate", content=body, headers=JSON)
            if response.status_code != 200:
                raise RuntimeError(f"{address}: {response.status_code} {response.text[:500]}")

        return call

    return make


def _v2_caller(
    address: str, inputs: dict[str, np.ndarray], parameters: dict | None
) -> Callable[[], Callable[[], None]]:
    """A factory of per-thread callers sending one tritonclient request with ``inputs``."""
    import tritonclient.http as httpclient

    def make() -> Callable[[], None]:
        client = httpclient.InferenceServerClient(address, network_timeout=300)
        tensors = []
        for name, values in inputs.items():
            tensor = httpclient.InferInput(name, list(values.shape), "FP32")
            tensor.set_data_from_numpy(values, binary_data=True)
            tensors.append(tensor)
        outputs = [httpclient.InferRequestedOutput("events", binary_data=True)]
        return lambda: client.infer(MODEL, tensors, outputs=outputs, parameters=parameters)

    return make


def measure(make: Callable[[], Callable[[], None]], *, clients: int, requests: int) -> dict:
    """``clients`` threads, each with its own client (tritonclient's may not cross threads):
    one warm-up request, then ``requests`` timed ones; requests/s over the wall time, latency
    p50 and p99 (seconds)."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def run() -> None:
        mine = []
        try:
            call = make()
            call()
        except Exception as error:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(error)
        start.wait()
        try:
            for _ in range(requests if not errors else 0):
                began = time.perf_counter()
                call()
                mine.append(time.perf_counter() - began)
        except Exception as error:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(error)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise errors[0]
    return {
        "requests_per_s": len(latencies) / wall,
        "p50": float(np.percentile(latencies, 50)),
        "p99": float(np.percentile(latencies, 99)),
    }


@contextmanager
def _server_process(
    command: list[str], port: int, log: Path, environment: dict[str, str], probe: str
) -> Iterator[str]:
    """``command`` listening on loopback ``port``; its URL once GET ``probe`` answers."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **environment}
        )
    url = loopback_url(port)
    try:
        _wait_until_up(url + probe, process, log)
        yield url
    finally:
        stop(process)


def _uvicorn(app: str, log: Path, environment: dict[str, str]):
    """``python -m uvicorn APP`` on a free loopback port (:func:`_server_process`)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", LOOPBACK, "--port", str(port)]
    command += ["--log-level", "warning"]
    return _server_process(command, port, log, environment, "/docs")


def _kserve(python: str, model: Path, log: Path):
    """:mod:`benchmarks.kserve_app` run by ``python`` on a free loopback port."""
    port = free_port()
    command = [python, "-m", "benchmarks.kserve_app", "--model-dir", str(model)]
    command += ["--name", MODEL, "--http-port", str(port)]
    return _server_process(command, port, log, {}, "/v2/health/ready")


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
            time.sleep(0.2)
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{url} did not start: {log}") from None
            time.sleep(0.2)


def kserve_missing(python: str) -> str | None:
    """Why ``python`` cannot run KServe's ModelServer, or None."""
    found = subprocess.run(
        [python, "-c", "import kserve"], capture_output=True, check=False, timeout=120
    )
    if found.returncode:
        return f"{python} has no kserve package (see docs/benchmarks.md: --kserve-python)"
    return None


def _targets(
    stack: ExitStack, servers: list[str], model: Path, scratch: Path, kserve_python: str
) -> list[Target]:
    """Start the asked-for servers (stopped when ``stack`` closes); what to measure on each."""
    from hepgan.cli import main as hepgan

    targets = []
    if "ours" in servers:
        models_dir = scratch / "models"
        models_dir.mkdir()
        shutil.copytree(model, models_dir / MODEL)  # the service refuses links out of it
        url = stack.enter_context(served(models_dir, scratch / "ours.log")).url
        for report in (False, True):
            targets.append(Target("ours", "v1", url, report))
            targets.append(Target("ours", "v2", url.removeprefix("http://"), report))
    if "triton" in servers:
        reason = missing_reason()
        if reason is None:
            repository = scratch / "triton_repository"
            export = ["export", "--model", str(model), "--format", "triton", "--name", MODEL]
            hepgan([*export, "--backend", "python", "-o", str(repository)])
            server = stack.enter_context(triton_server(repository, log=scratch / "triton.log"))
            targets.append(Target("triton", "v2", server.http_address))
        else:
            print(f"triton: skipped: {reason}")
    if "kserve" in servers:
        reason = kserve_missing(kserve_python)
        if reason is None:
            url = stack.enter_context(_kserve(kserve_python, model, scratch / "kserve.log"))
            targets.append(Target("kserve", "v2", url.removeprefix("http://")))
        else:
            print(f"kserve: skipped: {reason}")
    if "bare" in servers:
        environment = {"HEPGAN_PEER_MODEL": str(model)}
        url = stack.enter_context(
            _uvicorn("benchmarks.bare_generate_app:app", scratch / "bare.log", environment)
        )
        targets.append(Target("bare", "v1", url))
    return targets


def check_same_events(targets: list[Target], inputs: dict[str, np.ndarray]) -> None:
    """Print how far each OIP server's events are from ours for the same request (float32 ULPs
    of each column's scale, :func:`tests.support.onnx_parity.worst_ulps`); stop if one is
    further than the export's tolerance."""
    import tritonclient.http as httpclient

    from tests.support.onnx_parity import worst_ulps

    answers = {}
    for target in targets:
        if target.protocol == "v2" and not target.report:
            tensors = []
            for name, values in inputs.items():
                tensor = httpclient.InferInput(name, list(values.shape), "FP32")
                tensor.set_data_from_numpy(values, binary_data=True)
                tensors.append(tensor)
            with httpclient.InferenceServerClient(target.address, network_timeout=300) as client:
                answers[target.server] = client.infer(MODEL, tensors).as_numpy("events")
    if "ours" not in answers:
        return
    for server, events in answers.items():
        if server == "ours":
            continue
        worst = float(worst_ulps(events, answers["ours"]).max())
        print(f"{server} /v2 events against ours /v2: at most {worst:.1f} float32 ULPs")
        if worst > MAX_ULPS:
            raise SystemExit(f"{server} does not give our events: {worst} ULPs")


def _caller(target: Target, n_events: int, inputs: dict[str, np.ndarray]):
    if target.protocol == "v1":
        return _v1_caller(target.address, n_events, target.report)
    parameters = {"validate": target.report} if target.server == "ours" else None
    return _v2_caller(target.address, inputs, parameters)


def _inputs(model: Path, n_events: int) -> dict[str, np.ndarray]:
    """The OIP request's tensors: noise ~ N(0, 1) and conditions drawn from the reference."""
    from hepgan.models.artefact import load_artefact

    artefact = load_artefact(model)
    rng = np.random.default_rng(0)
    latent = artefact.card.architecture["latent_dim"]
    inputs = {"noise": rng.standard_normal((n_events, latent), dtype=np.float32)}
    if artefact.card.n_conditions:
        conditions = artefact.sample_conditions(n_events, seed=0)
        inputs["conditions"] = conditions.astype(np.float32)
    return inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a shower artefact folder (default: build one)")
    parser.add_argument("--clients", default="1,8", help="concurrent clients")
    parser.add_argument("--sizes", default="16,10000", help="events per request")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per client")
    parser.add_argument("--servers", default=",".join(SERVERS), help="which servers")
    parser.add_argument(
        "--kserve-python", default=sys.executable, help="a Python with the kserve package"
    )
    args = parser.parse_args()
    clients = [int(n) for n in args.clients.split(",")]
    sizes = [int(n) for n in args.sizes.split(",")]
    servers = args.servers.split(",")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; load average "
        + ", ".join(f"{value:.1f}" for value in os.getloadavg())
    )
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        scratch = Path(folder)
        model = args.model or build_model(scratch / "built" / MODEL)
        targets = _targets(stack, servers, model, scratch, args.kserve_python)
        print(
            "| server | events/request | clients | requests/s | events/s | p50 ms | p99 ms "
            "| requests/s vs ours |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for n_events in sizes:
            inputs = _inputs(model, n_events)
            check_same_events(targets, inputs)
            for n_clients in clients:
                ours: dict[str, float] = {}
                for target in targets:
                    result = measure(
                        _caller(target, n_events, inputs),
                        clients=n_clients,
                        requests=args.requests,
                    )
                    rate = result["requests_per_s"]
                    if target.server == "ours" and not target.report:
                        ours[target.protocol] = rate
                    base = ours.get(target.protocol)
                    ratio = f"{rate / base:.2f}" if base else "-"
                    print(
                        f"| {target.label} | {n_events} | {n_clients} | {rate:.1f} "
                        f"| {rate * n_events:.0f} | {result['p50'] * 1e3:.1f} "
                        f"| {result['p99'] * 1e3:.1f} | {ratio} |",
                        flush=True,
                    )
    print("load average at the end: " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
