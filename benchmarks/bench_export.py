"""Speed of the ways out of Python, each figure a ratio measured in this one run.

    python -m benchmarks.bench_export [--model DIR] [--repeats 3] [--shard-events 400000]

Model: ``--model DIR``, else the small shower model of :mod:`benchmarks.bench_service`
(120 voxels, default network, speed does not depend on the weights). Measures, best of
``--repeats``:

1. generation throughput (events/s) of ONNX Runtime on the CPU against PyTorch on the CPU
   (``artefact.generate``, noise drawn inside) at batch 1, 1k and 100k events, ORT with
   its noise drawn by numpy and as many intra-op threads as torch has;
2. 10k events over HTTP: the Open Inference Protocol route (tritonclient[http], binary
   tensors, and JSON tensors) against ``/v1`` with npz, both without the report and with it;
3. a sharded production of ``--shard-events`` events under torchrun, 2 processes against 1
   (wall time of the whole command, start-up included).

Prints one JSON document; the machine's load average is part of it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_service import MODEL, build_model
from tests.support.live_server import serve
from tests.support.timing import best_time


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def onnx_against_torch(model: Path, work: Path, repeats: int) -> dict:
    import onnxruntime
    import torch

    from hepgan.models.artefact import load_artefact
    from hepgan.models.export.onnx_file import export_onnx

    artefact = load_artefact(model)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # the same threads as torch
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(export_onnx(artefact, work / "model.onnx")),
        options,
        providers=["CPUExecutionProvider"],
    )
    latent_dim = artefact.card.architecture["latent_dim"]
    rng = np.random.default_rng(0)
    results = {}
    for n_events in (1, 1_000, 100_000):
        conditions = artefact.sample_conditions(n_events, seed=1)  # (N, 1) MeV
        conditions32 = conditions.astype(np.float32)
        calls = max(1, 2_000 // n_events)  # batch 1: time many calls, not one

        def torch_run(conditions=conditions, n_events=n_events, calls=calls) -> None:
            for _ in range(calls):
                artefact.generate(n_events, conditions=conditions, seed=3)

        def onnx_run(conditions32=conditions32, n_events=n_events, calls=calls) -> None:
            for _ in range(calls):
                noise = rng.standard_normal((n_events, latent_dim), dtype=np.float32)
                session.run(["events"], {"noise": noise, "conditions": conditions32})

        torch_s = best_time(torch_run, repeats=repeats) / calls
        onnx_s = best_time(onnx_run, repeats=repeats) / calls
        results[f"batch_{n_events}"] = {
            "torch_events_per_s": round(n_events / torch_s),
            "onnxruntime_events_per_s": round(n_events / onnx_s),
            "onnxruntime_over_torch": round(torch_s / onnx_s, 2),
        }
    results["threads"] = {"torch": torch.get_num_threads(), "onnxruntime": torch.get_num_threads()}
    return results


def oip_against_v1(models_dir: Path, work: Path, repeats: int, n_events: int = 10_000) -> dict:
    import httpx
    import tritonclient.http as triton

    energies = np.geomspace(2e3, 5e4, n_events).astype(np.float32)[:, None]  # (N, 1) MeV
    results = {}
    with serve(models_dir, log=work / "serve.log") as server:
        client = triton.InferenceServerClient(
            server.url.removeprefix("http://"), network_timeout=300
        )
        http = httpx.Client(base_url=server.url, timeout=300)
        for validate in (False, True):

            def v1(validate=validate) -> None:
                body = {
                    "n_events": n_events,
                    "conditions": {"incident_energy": energies[:, 0].tolist()},
                    "seed": 1,
                    "format": "npz",
                    "validate": validate,
                }
                response = http.post(f"/v1/models/{MODEL}/generate", json=body)
                response.raise_for_status()
                np.load(io.BytesIO(response.content), allow_pickle=False)["features"]

            def oip(binary: bool, validate=validate) -> None:
                tensor = triton.InferInput("conditions", list(energies.shape), "FP32")
                tensor.set_data_from_numpy(energies, binary_data=binary)
                output = triton.InferRequestedOutput("events", binary_data=binary)
                result = client.infer(
                    MODEL, [tensor], outputs=[output], parameters={"seed": 1, "validate": validate}
                )
                result.as_numpy("events")

            v1_s = best_time(v1, repeats=repeats)
            binary_s = best_time(lambda: oip(True), repeats=repeats)
            json_s = best_time(lambda: oip(False), repeats=repeats)
            results["with_report" if validate else "without_report"] = {
                "v1_npz_s": round(v1_s, 3),
                "oip_binary_s": round(binary_s, 3),
                "oip_json_s": round(json_s, 3),
                "oip_binary_over_v1": round(v1_s / binary_s, 2),
                "oip_json_over_v1": round(v1_s / json_s, 2),
            }
        client.close()
        http.close()
    return results


def sharded(model: Path, work: Path, n_events: int, repeats: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    times = {}
    for processes in (1, 2):
        folder = work / f"shards{processes}"
        folder.mkdir()
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command += ["--nproc-per-node", str(processes), "-m", "hepgan.cli", "generate"]
        command += ["--model", str(model), "-n", str(n_events), "--seed", "1"]
        command += ["-o", str(folder / "out.root")]

        def run(command=command) -> None:
            subprocess.run(command, check=True, env=env, capture_output=True, timeout=1800)

        times[processes] = best_time(run, repeats=repeats)
    return {
        "events": n_events,
        "one_process_s": round(times[1], 2),
        "two_processes_s": round(times[2], 2),
        "two_over_one_speed": round(times[1] / times[2], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shard-events", type=int, default=400_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        models_dir = work / "models"
        model = args.model or build_model(models_dir / MODEL)
        if args.model:  # served from a copy: the service refuses links out of its folder
            shutil.copytree(args.model, models_dir / MODEL, ignore=shutil.ignore_patterns("run"))
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        figures = {"started": started, "cpus": os.cpu_count(), "load_before": _load()}
        figures["onnx_vs_torch"] = onnx_against_torch(model, work, args.repeats)
        figures["load_after_onnx"] = _load()
        figures["oip_vs_v1_10k"] = oip_against_v1(models_dir, work, args.repeats)
        figures["load_after_http"] = _load()
        figures["sharded"] = sharded(model, work, args.shard_events, max(1, args.repeats - 1))
        figures["load_after"] = _load()
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
