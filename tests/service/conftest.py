"""A real uvicorn server on 127.0.0.1 (:mod:`tests.support.threaded_server`) serving small
artefacts made in the test session.

Models served (``model_dir``), all on the toys of :mod:`tests.support.tiny`:
- ``showers_tiny``: a tiny shower model (2 training steps);
- ``dimuon_untrained``: the dimuon toy with a freshly initialised generator: the
  known-bad model, whose reports fail;
- ``dimuon_exact``: the dimuon toy with a generator that passes its noise through
  unchanged; the artefact's quantile transforms map N(0, 1) onto the training
  marginals, so its batches reproduce the reference: the known-good model;
- ``broken``: a folder whose model.json is not a model card.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hepgan.service.settings import Settings
from tests.support.threaded_server import ThreadedServer, serve_in_thread

CHUNK_EVENTS = 1000  # small chunks, so a few thousand events already stream
REPORT_MAX_EVENTS = 500  # reports cost O(n m) for exact KS p-values: keep n small
MAX_EVENTS = 100_000
MAX_BODY_BYTES = 200_000
TOY_EVENTS = 3000
# The known-good model's reference (20 % of the toy) must be large enough that the report's
# noise floor (e.g. the JS bias of ~(bins - 1) / 8 (1/n + 1/m) nats) sits below its thresholds.
DIMUON_TOY_EVENTS = 20_000
TOY_STEPS = 2


def with_generator(toy: Path, folder: Path, *, identity: bool) -> Path:
    """Copy artefact ``toy`` to ``folder`` with a new generator: untrained, or the identity.

    The identity is x' = z with no hidden layer (latent width = number of features).
    """
    import torch

    from hepgan.models.artefact import load_artefact, save_artefact
    from hepgan.models.networks import GanConfig, Generator

    artefact = load_artefact(toy)
    config = GanConfig.from_dict(artefact.card.architecture)
    state: dict[str, Any]
    if identity:
        n = artefact.card.n_features
        config = GanConfig(n_features=n, latent_dim=n, generator_hidden=[], critic_hidden=[8])
        state = {"net.0.weight": torch.eye(n), "net.0.bias": torch.zeros(n)}
    else:
        torch.manual_seed(0)
        state = Generator(config).state_dict()
    features, conditions = artefact.reference()
    card = artefact.card.model_copy(update={"architecture": config.to_dict()})
    return save_artefact(
        folder,
        card=card,
        generator_state=state,
        reference_features=features,
        reference_conditions=conditions,
    )


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.tiny import make_tiny_artefact

    folder = tmp_path_factory.mktemp("served")
    make_tiny_artefact(
        folder / "showers_tiny", kind="showers", n_events=TOY_EVENTS, steps=TOY_STEPS
    )
    toy = tmp_path_factory.mktemp("toy") / "dimuon_toy"
    make_tiny_artefact(toy, kind="events", n_events=DIMUON_TOY_EVENTS, steps=TOY_STEPS)
    with_generator(toy, folder / "dimuon_exact", identity=True)
    with_generator(toy, folder / "dimuon_untrained", identity=False)
    (folder / "broken").mkdir()
    (folder / "broken" / "model.json").write_text("{}")
    return folder


@pytest.fixture(scope="session")
def server(model_dir: Path) -> Iterator[ThreadedServer]:
    """The server most tests share: small chunks and limits, dynamic batching on."""
    yield from serve_in_thread(
        Settings(
            models_dir=model_dir,
            chunk_events=CHUNK_EVENTS,
            report_max_events=REPORT_MAX_EVENTS,
            max_events_per_request=MAX_EVENTS,
            max_body_bytes=MAX_BODY_BYTES,
            dynamic_batching="on",
            batch_max_wait_ms=5.0,  # idle model: wait for company, as on a GPU
            warmup_events=64,
        )
    )


@pytest.fixture
def http(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
