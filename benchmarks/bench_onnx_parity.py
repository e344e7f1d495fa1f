"""How closely ONNX Runtime reproduces the artefact's own events, per output column.

    python -m benchmarks.bench_onnx_parity [--batches 1,1000,100000] [--seed 7]

For each model (the three of tests/models/test_export.py: tiny showers, toy events and
the dimuon model with the pair frame; and the shower model of
:mod:`benchmarks.bench_service`, with the default 3 x 256 network), exports the ONNX graph,
runs it on ONNX Runtime's CPU provider and ``Sampler.generate_from_noise`` on the same noise
and conditions, and prints per column the largest difference in float32 units in the last
place (:func:`tests.support.onnx_parity.worst_ulps`): ULPs of the column's largest value
(|onnx - torch| / spacing(max |column|), the metric tests/models/test_export.py holds), and
ULPs of each value itself. Prints JSON lines: the run (versions, CPU, load), then one line
per model and batch size with the fraction of values equal bit for bit and, for each
metric, the worst column and every column's figure; last the load after the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.bench_service import build_model
from tests.support.dimuon import make_dimuon_artefact
from tests.support.onnx_parity import onnx_and_sampler, worst_ulps
from tests.support.tiny import make_tiny_artefact


def _cpu() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parity(folder: Path, work: Path, batches: list[int], seed: int) -> Iterator[dict]:
    """Per batch size: the share of exact values and, in ULPs of the column and of the
    value, the worst column and each column's figure."""
    import onnxruntime

    from hepgan.models.artefact import load_artefact
    from hepgan.models.export.onnx_file import export_onnx

    artefact = load_artefact(folder)
    path = export_onnx(artefact, work / f"{folder.name}.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = artefact.card.feature_names
    for n_events in batches:
        events, expected = onnx_and_sampler(artefact, session, n_events=n_events, seed=seed)
        figures: dict = {
            "model": folder.name,
            "generator_hidden": artefact.card.architecture["generator_hidden"],
            "batch": n_events,
            "values_bit_for_bit": round(float(np.mean(events == expected)), 6),
        }
        for of in ("column", "value"):
            worst = worst_ulps(events, expected, of=of)  # (F,)
            column = int(np.argmax(worst))
            figures[f"ulps_of_{of}"] = {
                "worst": float(worst[column]),
                "worst_column": names[column],
                "per_column": dict(zip(names, worst.tolist(), strict=True)),
            }
        yield figures


def main() -> None:
    import onnxruntime
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,1000,100000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    batches = [int(value) for value in args.batches.split(",")]
    run = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": _cpu(),
        "cpus": os.cpu_count(),
        "load_before": [round(value, 2) for value in os.getloadavg()],
        "versions": {
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__,
        },
    }
    print(json.dumps(run), flush=True)
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        models = [
            make_tiny_artefact(work / "tiny_showers", kind="showers"),
            make_tiny_artefact(work / "toy_events", kind="events"),
            make_dimuon_artefact(work / "dimuon"),
            build_model(work / "showers_default_network"),
        ]
        for folder in models:
            for figures in parity(folder, work, batches, args.seed):
                print(json.dumps(figures), flush=True)
    print(json.dumps({"load_after": [round(value, 2) for value in os.getloadavg()]}))


if __name__ == "__main__":
    main()
