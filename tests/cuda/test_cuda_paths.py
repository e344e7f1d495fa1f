"""The paths only a GPU runs: training, artefacts and the service on CUDA.

Every test here is marked ``cuda`` and skips, saying why, without a GPU;
``scripts/gpu_check.sh`` runs them on a machine that has one. (The two-GPU NCCL
run is in tests/training/test_train_distributed.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch

from hepgan.client import read_npz_batch
from hepgan.models.artefact import load_artefact
from hepgan.service.settings import Settings
from hepgan.training.loop import run_training
from hepgan.training.trainer import Trainer
from tests.support.threaded_server import ThreadedServer, serve_in_thread
from tests.support.tiny import make_tiny_artefact, tiny_config, toy_training_data

pytestmark = pytest.mark.cuda


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny events and showers models trained on the CPU, as a user would bring them."""
    folder = tmp_path_factory.mktemp("cuda_models")
    return {
        kind: make_tiny_artefact(folder / kind, kind=kind, n_events=3000, steps=4)
        for kind in ("events", "showers")
    }


def test_an_artefact_moves_to_the_gpu(artefacts: dict[str, Path]) -> None:
    artefact = load_artefact(artefacts["showers"]).to("cuda")
    assert {parameter.device.type for parameter in artefact.generator.parameters()} == {"cuda"}
    events = artefact.generate(1000, seed=2, device="cuda")
    assert events.shape == (1000, artefact.card.n_features) and np.isfinite(events).all()


@pytest.mark.parametrize("kind", ["events", "showers"])
def test_same_seed_same_events_on_cpu_and_gpu(artefacts: dict[str, Path], kind: str) -> None:
    """The noise is drawn on the CPU generator on every device; only arithmetic differs.

    cuBLAS and the CPU's BLAS sum in different orders (float32: relative 1e-6 per
    product, more through the inverse transforms), so values agree to a tolerance,
    and a voxel within rounding of the readout threshold may be zero on one device only.
    """
    on_cpu = load_artefact(artefacts[kind]).generate(5000, seed=11, device="cpu")
    on_gpu = load_artefact(artefacts[kind]).generate(5000, seed=11, device="cuda")
    scale = np.abs(on_cpu).max(axis=0)  # (F,)
    close = np.abs(on_gpu - on_cpu) <= 1e-4 * scale + 1e-5 * np.abs(on_cpu)
    if kind == "events":
        assert close.all(), np.abs(on_gpu - on_cpu).max(axis=0)
    else:
        assert close.mean() > 0.999, close.mean()
        np.testing.assert_allclose(on_gpu.sum(axis=1), on_cpu.sum(axis=1), rtol=1e-3)


@pytest.mark.parametrize(
    ("precision", "dtype"), [("bf16", torch.bfloat16), ("fp16", torch.float16)]
)
def test_training_on_the_gpu_with_autocast_and_compile(
    tmp_path: Path, precision: str, dtype: torch.dtype
) -> None:
    data = toy_training_data("showers", n_events=3000, seed=1)
    seen: list[tuple[torch.device, torch.dtype | None, bool]] = []

    def watch(trainer: Trainer) -> None:
        seen.append((trainer.device, trainer.precision, trainer.scaler.is_enabled()))

    config = tiny_config(tmp_path, data, steps=6, device="cuda", precision=precision, compile=True)
    result = run_training(config, data, callbacks=[watch])
    assert result.step == 6 and result.rollbacks == 0
    # loss scaling only for float16, whose range is too narrow for small gradients
    assert set(seen) == {(torch.device("cuda"), dtype, precision == "fp16")}
    card = load_artefact(result.artefact).card
    assert card.training.device == "cuda x 1"
    events = load_artefact(result.artefact).generate(500, seed=0, device="cuda")
    assert np.isfinite(events).all()


@pytest.fixture
def gpu_server(artefacts: dict[str, Path]) -> Iterator[ThreadedServer]:
    models = artefacts["events"].parent
    yield from serve_in_thread(Settings(models_dir=models, device="cuda", dynamic_batching="on"))


def test_service_generates_on_the_gpu_with_dynamic_batching(gpu_server: ThreadedServer) -> None:
    url = f"{gpu_server.url}/v1/models/events/generate"

    def ask(_: int) -> np.ndarray:
        body = {"n_events": 16, "format": "npy", "validate": False}
        response = httpx.post(url, json=body, timeout=60)
        assert response.status_code == 200, response.text
        return read_npz_batch(response.content).features

    with ThreadPoolExecutor(max_workers=8) as pool:  # 8 clients at once: merged on the GPU
        batches = list(pool.map(ask, range(32)))
    assert all(batch.shape == (16, 3) and np.isfinite(batch).all() for batch in batches)
    seeded = [
        httpx.post(url, json={"n_events": 100, "seed": 5, "format": "npy"}, timeout=60)
        for _ in range(2)
    ]
    assert [response.status_code for response in seeded] == [200, 200], seeded[0].text
    first, second = (read_npz_batch(response.content).features for response in seeded)
    np.testing.assert_array_equal(first, second)  # a seed is never merged with others
