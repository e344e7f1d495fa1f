"""One generation path and one report builder, where the model card and the service meet.

- The scores written into the card at the end of training are the service's report of the
  card's events (the reference conditions as stored, the noise of the training seed + 2):
  in process for both kinds, and over HTTP through ``/v2`` with that noise.
- A ``/v1`` request draws each chunk's noise from a seed of its own, so the training seed + 2
  does not give the card's events: its events are ``Sampler.generate``'s for each chunk with
  ``chunk_seed(seed, chunk, NOISE_STREAM)``, and its report is the report of those events.
- At conditions other than the reference's own the report compares the batch with the
  reference events of those conditions: a batch at one energy gets the report it would get
  against a reference holding only the reference events nearest that energy.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch

from hepgan.models.artefact import load_artefact, save_artefact
from hepgan.models.sampler import default_batch_size, noise_seed
from hepgan.service.conditions import NOISE_STREAM, chunk_seed
from hepgan.service.metrics import ServiceMetrics
from hepgan.service.registry import ModelRegistry
from hepgan.service.reports import batch_report
from hepgan.service.settings import Settings
from tests.support.threaded_server import ThreadedServer, serve_in_thread
from tests.support.tiny import make_tiny_artefact

CHUNK_EVENTS = 128  # the 400 reference conditions make four chunks
REPORT_MAX_EVENTS = 10_000  # every event of these requests is in its report
# The reference matching's rule for a batch at one value (match_reference in hepgan.validation,
# its defaults): the reference events within +-5 % of it, or the 200 nearest when the window
# holds fewer.
WINDOW_FRACTION = 0.05
MIN_REFERENCE_EVENTS = 200
SCORES = ("worst_ks", "mean_js_nats", "ks_critical_value")
COUNTS = ("status", "worst_observable", "n_failing", "n_candidate", "n_reference")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("card") / "models"
    for kind in ("events", "showers"):
        make_tiny_artefact(folder / kind, kind=kind, steps=3, seed=4)
    return folder


@pytest.fixture(scope="module")
def server(models: Path) -> Iterator[ThreadedServer]:
    yield from serve_in_thread(_settings(models))


def _settings(models: Path) -> Settings:
    return Settings(
        models_dir=models,
        chunk_events=CHUNK_EVENTS,
        report_max_events=REPORT_MAX_EVENTS,
        warmup_events=0,
        device="cpu",
    )


def _service_report(models: Path, name: str, events: np.ndarray, conditions: np.ndarray):
    """The service's report of ``events`` (N, F) at ``conditions`` (N, C), built in process."""
    registry = ModelRegistry(settings=_settings(models), metrics=ServiceMetrics())
    registry.load_all()
    try:
        return batch_report(
            registry.get(name),
            events,
            conditions,
            n_events_in_batch=len(events),
            extrapolated=False,
        )
    finally:
        registry.close()


def _assert_same_summary(got: dict, expected: dict, fields=COUNTS) -> None:
    for field in fields:
        assert got[field] == expected[field], field
    for field in SCORES:
        assert got[field] == pytest.approx(expected[field], rel=1e-12, abs=1e-15), field


def _card_conditions(artefact) -> np.ndarray:
    """The reference conditions as the card's report used them: stored float32, as float64."""
    return artefact.reference()[1].astype(np.float64)  # (M, C)


@pytest.mark.parametrize("kind", ["events", "showers"])
def test_card_scores_equal_the_service_report(models: Path, kind: str) -> None:
    artefact = load_artefact(models / kind)
    conditions = _card_conditions(artefact)
    events = artefact.generate(
        len(conditions), conditions=conditions, seed=artefact.card.training.seed + 2
    )  # (M, F): the card's events
    report = _service_report(models, kind, events, conditions)
    card_summary = artefact.card.validation["reference_report"]
    assert card_summary["n_observables"] > 0
    _assert_same_summary(report["summary"], card_summary, (*COUNTS, "n_observables"))


def test_card_scores_equal_the_v2_report_of_the_cards_noise(
    models: Path, server: ThreadedServer
) -> None:
    """/v2 with the noise the card's events were drawn from (toy events: no acceptance and no
    symmetry draw after the generator, so that noise gives the card's events)."""
    artefact = load_artefact(models / "events")
    n_events = artefact.card.reference.n_events
    assert n_events <= default_batch_size(artefact.card.n_features)  # one noise batch
    source = torch.Generator().manual_seed(noise_seed(artefact.card.training.seed + 2))
    noise = torch.randn(n_events, artefact.card.architecture["latent_dim"], generator=source)
    body = {
        "inputs": [
            {
                "name": "noise",
                "shape": list(noise.shape),
                "datatype": "FP32",
                "data": noise.flatten().tolist(),
            }
        ]
    }
    response = httpx.post(f"{server.url}/v2/models/events/infer", json=body, timeout=120)
    assert response.status_code == 200, response.text
    parameters = response.json()["parameters"]
    card_summary = artefact.card.validation["reference_report"]
    assert parameters["validation_events"] == card_summary["n_candidate"] == n_events
    got = {key: parameters[f"validation_{key}"] for key in (*SCORES, *COUNTS[:3])}
    _assert_same_summary(got, card_summary, COUNTS[:3])


def _generate(server: ThreadedServer, name: str, body: dict) -> tuple[np.ndarray, dict]:
    """Events (N, F) and report of one /v1 request in npz."""
    response = httpx.post(
        f"{server.url}/v1/models/{name}/generate",
        json={**body, "format": "npz", "validate": True},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    with np.load(io.BytesIO(response.content), allow_pickle=False) as arrays:
        return arrays["features"], json.loads(bytes(arrays["report"]))


def test_a_v1_seed_draws_each_chunks_noise_from_its_own_seed(
    models: Path, server: ThreadedServer
) -> None:
    artefact = load_artefact(models / "showers")
    conditions = _card_conditions(artefact)  # (M, 1)
    seed = artefact.card.training.seed + 2
    body = {
        "n_events": len(conditions),
        "conditions": {"incident_energy": conditions[:, 0].tolist()},
    }
    events, report = _generate(server, "showers", {**body, "seed": seed})
    expected = np.concatenate(
        [
            artefact.generate(
                len(part), conditions=part, seed=chunk_seed(seed, index, NOISE_STREAM)
            )
            for index, part in enumerate(
                np.split(conditions, range(CHUNK_EVENTS, len(conditions), CHUNK_EVENTS))
            )
        ]
    )
    np.testing.assert_array_equal(events, expected)
    card_events = artefact.generate(len(conditions), conditions=conditions, seed=seed)
    assert not np.array_equal(events, card_events)  # not the card's events
    assert report["scope"]["events_validated"] == len(conditions)
    _assert_same_summary(
        report["summary"], _service_report(models, "showers", events, conditions)["summary"]
    )


def test_a_batch_at_one_energy_is_judged_against_the_reference_near_it(
    models: Path, server: ThreadedServer, tmp_path: Path
) -> None:
    artefact = load_artefact(models / "showers")
    features, conditions = artefact.reference()  # (M, F), (M, 1) MeV
    energy = float(np.median(conditions[:, 0]))
    events, report = _generate(
        server,
        "showers",
        {"n_events": 300, "conditions": {"incident_energy": energy}, "seed": 3},
    )
    distance = np.abs(conditions[:, 0].astype(np.float64) - energy)
    near = np.flatnonzero(distance <= WINDOW_FRACTION * energy)
    if len(near) < MIN_REFERENCE_EVENTS:
        near = np.sort(np.argsort(distance, kind="stable")[:MIN_REFERENCE_EVENTS])
    assert 0 < len(near) < len(conditions)  # the matching matters
    # The same model with a reference of only those events.
    near_only = tmp_path / "models" / "showers"
    save_artefact(
        near_only,
        card=artefact.card,
        generator_state=artefact.generator.state_dict(),
        reference_features=features[near],
        reference_conditions=conditions[near],
    )
    batch_conditions = np.full((len(events), 1), energy)
    expected = _service_report(near_only.parent, "showers", events, batch_conditions)
    assert report["summary"]["n_reference"] == len(near)
    _assert_same_summary(report["summary"], expected["summary"])
