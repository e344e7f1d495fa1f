"""The web page in headless Chromium, used as a physicist would: open the list, open a model,
generate a batch with a condition range, read its validation, download it."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest
import uproot

from tests.browser.conftest import (
    API_KEY,
    RANGE_REQUEST,
    BrowserTab,
    api_report,
    open_model_and_generate,
)

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_model_list_asks_for_the_key_then_shows_cards_and_broken_artefacts(
    tab: BrowserTab,
) -> None:
    page = tab.page
    page.goto(tab.url + "/")
    page.wait_for_selector("#api-key")  # the page itself loads without the key
    tab.shot("key-prompt")
    tab.enter_key(API_KEY)
    page.wait_for_selector(".model-card")
    cards = page.locator(".model-card")
    assert sorted(cards.evaluate_all("cards => cards.map(c => c.dataset.model)")) == [
        "events_tiny",
        "showers_tiny",
    ]
    showers = page.locator(".model-card[data-model=showers_tiny]").inner_text()
    assert "voxels[0..119] [MeV]" in showers and "incident_energy in [" in showers
    assert "wgan-gp" in showers and "served checkpoint" in showers
    # The public card (issue 15) names hepgan's version only, not the training machine's
    # other library versions; the full list stays in the artefact's model.json.
    assert "hepgan 0.1.0" in showers and "torch" not in showers
    broken = page.locator("#broken").inner_text()
    assert "broken" in broken and "model.json" in broken
    tab.shot("model-list")
    assert tab.console_errors == [] and tab.blocked == []


def test_model_page_shows_card_and_training_history(tab: BrowserTab) -> None:
    page = tab.page
    page.goto(tab.url + "/")
    tab.enter_key(API_KEY)
    page.click("a:text-is('showers_tiny')")
    page.wait_for_selector("#history-plot.js-plotly-plot")
    traces = page.locator("#history-plot .scatterlayer .trace").count()
    assert traces >= 2  # at least one loss term and the selection metric
    assert "kind" in page.locator("#card").inner_text()
    tab.shot("model-page")
    page.goto(tab.url + "/models/events_tiny")  # copied without its run folder
    message = page.wait_for_selector("#history-missing").inner_text()
    assert "run/metrics.jsonl" in message
    assert tab.console_errors == [] and tab.blocked == []


def test_generate_with_a_condition_range_draws_every_observable_and_matches_the_api(
    tab: BrowserTab,
) -> None:
    open_model_and_generate(tab)
    page = tab.page
    report = api_report(tab.url, RANGE_REQUEST)  # the same request, straight to the API
    summary = report["summary"]
    drawn = page.locator("#histograms .js-plotly-plot")
    assert (
        drawn.count()
        == len(report["observables"])
        == int(page.get_attribute("#result", "data-drawn"))
    )
    for index in range(drawn.count()):
        plot = drawn.nth(index)
        lines = plot.locator(".scatterlayer .trace").count()
        bars = plot.locator(".barlayer .trace").count()
        # per plot: reference and generated, each a step line and error bars, and the ratio;
        # or, for a variable of few values (a hit count), a bar of each sample
        assert lines >= 5 or bars == 2, plot.get_attribute("data-observable")
    assert page.get_attribute("#summary", "data-status") == summary["status"]
    assert page.inner_text("#worst-observable") == summary["worst_observable"]
    assert float(page.inner_text("#worst-ks")) == pytest.approx(summary["worst_ks"], rel=1e-3)
    assert page.inner_text("#n-failing").startswith(
        f"{summary['n_failing']} of {summary['n_observables']}"
    )
    assert page.inner_text("#ks-critical").startswith(f"{summary['ks_critical_value']:.4g}")
    assert page.locator("#layer-profiles .js-plotly-plot").count() >= 1  # mean shower per layer
    rows = page.locator("#scores tbody tr")
    assert rows.count() == len(report["observables"])
    assert rows.first.get_attribute("data-observable") == summary["worst_observable"]  # KS, desc
    page.click("#scores th:text-is('observable')")  # sort by name
    names = rows.evaluate_all("rows => rows.map(r => r.dataset.observable)")
    assert names == sorted(names)
    tab.shot("generated-batch")
    page.locator("#histograms .js-plotly-plot").first.screenshot(
        path=str(tab.screenshots / "one-histogram.png")
    )
    assert tab.console_errors == [] and tab.blocked == []


@pytest.mark.parametrize("fmt", ["npz", "root"])
def test_download_fetches_the_same_batch_and_parses(
    tab: BrowserTab, fmt: str, tmp_path: Path
) -> None:
    open_model_and_generate(tab)
    page = tab.page
    with page.expect_download(timeout=120_000) as download_info:
        page.click(f"#downloads button[data-format={fmt}]")
    path = tmp_path / f"batch.{fmt}"
    download_info.value.save_as(str(path))
    api = httpx.post(
        f"{tab.url}/v1/models/showers_tiny/generate",
        json={**RANGE_REQUEST, "format": "npz"},
        headers=AUTH,
        timeout=120,
    )
    expected = np.load(io.BytesIO(api.content), allow_pickle=False)
    if fmt == "npz":
        downloaded = np.load(path, allow_pickle=False)
        assert downloaded["features"].shape == (RANGE_REQUEST["n_events"], 120)
        np.testing.assert_array_equal(downloaded["features"], expected["features"])
        np.testing.assert_array_equal(downloaded["conditions"], expected["conditions"])
    else:
        with uproot.open(path) as file:
            tree = file["showers"]
            assert tree.num_entries == RANGE_REQUEST["n_events"]
            energy = tree["incident_energy"].array(library="np")
        np.testing.assert_allclose(energy, expected["conditions"][:, 0])
        assert ((energy >= 2000) & (energy <= 50000)).all()
    assert tab.console_errors == [] and tab.blocked == []


def test_wrong_api_key_shows_a_clear_message(tab: BrowserTab) -> None:
    page = tab.page
    page.goto(tab.url + "/")
    tab.enter_key("not the key")
    message = page.wait_for_selector("#key-error").inner_text()
    assert "API key was refused" in message and "wrong" in message
    page.wait_for_selector("#api-key")  # asked again
    tab.shot("wrong-key")
    # Chromium logs each refused request; nothing else may appear.
    assert tab.console_errors and all("401" in error for error in tab.console_errors)
    assert tab.blocked == []


@pytest.mark.parametrize(
    ("path", "selector"),
    [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")],
    ids=["swagger-ui", "redoc"],
)
def test_api_docs_render_without_the_network(tab: BrowserTab, path: str, selector: str) -> None:
    page = tab.page
    page.goto(tab.url + path)
    title = page.wait_for_selector(selector, timeout=30_000).inner_text()
    assert "hepgan" in title
    page.wait_for_timeout(500)  # late requests (logos, fonts) would land here
    tab.shot(path.strip("/"))
    assert tab.console_errors == [] and tab.blocked == []
