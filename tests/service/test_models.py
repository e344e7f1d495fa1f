"""/v1/models and /v1/models/{name}: the model cards."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest


def test_list_gives_names_units_and_condition_ranges(http: httpx.Client) -> None:
    response = http.get("/v1/models")
    assert response.status_code == 200
    body = response.json()
    models = {model["name"]: model for model in body["models"]}
    assert sorted(models) == ["dimuon_exact", "dimuon_untrained", "showers_tiny"]
    showers = models["showers_tiny"]
    assert showers["kind"] == "showers"
    assert showers["condition_names"] == ["incident_energy"]
    assert showers["condition_units"] == ["MeV"]
    low, high = showers["condition_ranges"]["incident_energy"]
    assert 1000 <= low < high <= 100_000
    assert len(showers["feature_names"]) == 120 and set(showers["feature_units"]) == {"MeV"}
    assert models["dimuon_exact"]["feature_names"] == ["E1", "E2", "Q1"]
    assert list(body["broken"]) == ["broken"]


def test_card_has_provenance_and_validation_scores(http: httpx.Client) -> None:
    response = http.get("/v1/models/showers_tiny")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "showers_tiny"
    card = body["card"]
    assert card["training"]["seed"] == 0 and card["training"]["steps"] > 0
    assert card["validation"], "the card carries the validation scores of its checkpoint"
    assert card["output"]["tree"] == "showers"
    assert set(card["checksums"]) == {"generator.safetensors", "reference.safetensors"}


def test_unknown_model_is_404_listing_the_models(http: httpx.Client) -> None:
    for response in (
        http.get("/v1/models/nope"),
        http.post("/v1/models/nope/generate", json={"n_events": 1}),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == (
            "unknown model 'nope'; available models: dimuon_exact, dimuon_untrained, showers_tiny"
        )


def test_broken_model_is_404_saying_why(http: httpx.Client) -> None:
    response = http.get("/v1/models/broken")
    assert response.status_code == 404
    assert "failed to load" in response.json()["detail"]
    assert "not a valid model card" in response.json()["detail"]


def test_a_gpu_asked_for_on_a_node_without_one_is_named_in_readyz(tmp_path: Path) -> None:
    """HEPGAN_DEVICE=cuda without a GPU: no model loads, and the reason names the setting."""
    import torch

    from hepgan.service.metrics import ServiceMetrics
    from hepgan.service.registry import ModelRegistry
    from hepgan.service.settings import Settings

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    (tmp_path / "models" / "some_model").mkdir(parents=True)
    settings = Settings(models_dir=tmp_path / "models", device="cuda", warmup_events=0)
    registry = ModelRegistry(settings=settings, metrics=ServiceMetrics())
    registry.load_all()
    assert not registry.models and not registry.loading
    assert registry.broken == {".": "HEPGAN_DEVICE cuda: no CUDA device is available"}
