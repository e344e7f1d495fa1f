"""The web page's routes over HTTP: shell and assets without a key, nothing from the network,
the training history, the report's histograms behind a request flag, and the schema."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest

from hepgan.service.history import read_history
from hepgan.service.routers.page import PAGE_FOLDER
from hepgan.validation.report.schema import SCHEMA_VERSION

# URLs a page could fetch: http(s) or protocol-relative; XML namespaces are not fetched.
NETWORK_URL = re.compile(r"""(?:https?:)?//(?!www\.w3\.org/)[a-z0-9.-]+\.[a-z]{2,}""", re.I)


def test_page_shell_and_assets_are_served(http: httpx.Client) -> None:
    for path in ("/", "/models/showers_tiny"):
        shell = http.get(path)
        assert shell.status_code == 200 and 'id="app"' in shell.text
        assert 'data-key-required="false"' in shell.text
        assets = re.findall(r'(?:src|href)="([^"]+)"', shell.text)
        for asset in assets:
            if asset.startswith("/page-assets/"):
                assert http.get(asset).status_code == 200, asset
    assert (
        http.get("/page-assets/plotly.min.js").headers["content-type"].startswith("text/javascript")
    )
    assert http.get("/page-assets/../main.py").status_code == 404
    assert http.get("/page-assets/nothing.js").status_code == 404


@pytest.mark.parametrize("name", sorted(path.name for path in PAGE_FOLDER.iterdir()))
def test_page_files_fetch_nothing_from_the_network(name: str) -> None:
    text = (PAGE_FOLDER / name).read_text(encoding="utf-8")
    assert not NETWORK_URL.findall(text)


@pytest.mark.parametrize(
    ("page", "assets"),
    [("/docs", ["swagger-ui-bundle.js", "swagger-ui.css"]), ("/redoc", ["redoc.standalone.js"])],
)
def test_api_docs_use_installed_assets(http: httpx.Client, page: str, assets: list[str]) -> None:
    html = http.get(page).text
    assert not NETWORK_URL.findall(html.replace("https://fastapi.tiangolo.com", ""))
    for asset in assets:
        assert f"/docs-assets/{asset}" in html
        body = http.get(f"/docs-assets/{asset}")
        assert body.status_code == 200 and len(body.content) > 10_000
    assert b"cdn.redoc.ly" not in http.get("/docs-assets/redoc.standalone.js").content


def test_training_history_of_a_model(http: httpx.Client) -> None:
    history = http.get("/v1/models/showers_tiny/history").json()
    assert history["available"] and history["validations"]
    assert history["selection_metric"] and history["best_step"] is not None
    assert http.get("/v1/models/nothing/history").status_code == 404


def test_history_of_an_artefact_without_its_run_folder(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(model_dir / "showers_tiny", copy, ignore=shutil.ignore_patterns("run"))
    history = read_history(copy, {"selection_metric": "mean KS", "best_step": 2})
    assert not history.available and history.losses == [] and history.validations == []
    assert "run/metrics.jsonl" in history.message and history.best_step == 2


def test_history_skips_a_torn_last_line(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(model_dir / "showers_tiny", copy)
    with open(copy / "run" / "metrics.jsonl", "a", encoding="utf-8") as lines:
        lines.write('{"step": 99, "loss')
    history = read_history(copy, None)
    assert history.available and "1 unreadable lines skipped" in history.message


def test_histograms_in_the_report_only_when_asked(http: httpx.Client) -> None:
    body = {"n_events": 300, "seed": 3, "conditions": {"incident_energy": 20000.0}}
    url = "/v1/models/showers_tiny/generate"
    small = http.post(url, json=body).json()["report"]
    full = http.post(url, json={**body, "histograms": True}).json()["report"]
    assert small["schema_version"] == full["schema_version"] == SCHEMA_VERSION
    assert all(score["histogram"] is None for score in small["observables"])
    assert small["summary"] == full["summary"]
    for score in full["observables"]:
        histogram = score["histogram"]
        assert len(histogram["edges"]) == full["binning"]["n_bins"] + 1
        assert sum(histogram["candidate_counts"]) == score["n_candidate"]
        assert sum(histogram["reference_counts"]) == score["n_reference"]
    refused = http.post(url, json={**body, "histograms": "yes"})
    assert refused.status_code == 422 and "histograms" in refused.text
