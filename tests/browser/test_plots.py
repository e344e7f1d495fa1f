"""The page's plots do not lie, asserted on the rendered axes in headless Chromium: density
axes end at the data, legends sit where there are no data, off-scale ratios show as arrows,
energies spanning decades start on log axes, titles carry symbols, and the calorimeter's
own metrics (response, resolution, layer images, sparsity, voxel spectrum) are drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.browser.conftest import (
    API_KEY,
    RANGE_REQUEST,
    TRAINING_FILE,
    BrowserTab,
    api_report,
    open_model_and_generate,
)

pytestmark = pytest.mark.slow

# Per plot: the legend's box, the plot areas' boxes, the main y axis and what is drawn on it.
MEASURE = """plots => plots.map(gd => {
  const box = (node) => { const r = node.getBoundingClientRect();
                          return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }; };
  const legend = gd.querySelector('.legend');
  const title = gd.querySelector('.gtitle');
  const y = gd._fullLayout.yaxis;
  const onY = gd.data.filter(t => (t.yaxis || 'y') === 'y' && t.type !== 'heatmap');
  const tops = onY.flatMap(t => (t.y || []).map((v, i) =>
      v + ((t.error_y && t.error_y.array) ? t.error_y.array[i] || 0 : 0)));
  return {
    id: gd.id || gd.dataset.observable || gd.className,
    observable: gd.dataset.observable || null,
    legend: legend ? box(legend) : null,
    titleBox: title ? box(title) : null,
    areas: [...gd.querySelectorAll('.draglayer .nsewdrag')].map(box),
    yType: y.type, yRange: y.range, xType: gd._fullLayout.xaxis.type,
    dataTop: tops.length ? Math.max(...tops.filter(v => Number.isFinite(v))) : null,
    title: gd.layout.title ? gd.layout.title.text : '',
    scaleButtons: (gd.layout.updatemenus || []).length,
    drawn: onY.filter(t => t.type === 'bar' || t.mode === 'markers').map(t => t.y),
  };
})"""

# The ratio panel of one histogram: points inside, arrows at the edge, the rendered marks.
RATIO = """gd => {
  const inside = gd.data.find(t => t.yaxis === 'y2' && t.meta !== 'off-scale');
  const arrows = gd.data.find(t => t.meta === 'off-scale');
  const rendered = gd.querySelectorAll('.subplot.xy2 .scatterlayer path.point');
  return { inside: inside.y, arrows: arrows.y, symbols: arrows.marker.symbol,
           rendered: rendered.length, range: gd._fullLayout.yaxis2.range };
}"""


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


def _measure(tab: BrowserTab) -> list[dict]:
    return tab.page.locator(".js-plotly-plot").evaluate_all(MEASURE)


def test_density_axes_end_at_the_data_even_where_the_reference_has_a_point_mass(
    tab: BrowserTab,
) -> None:
    open_model_and_generate(tab)
    report = api_report(tab.url, {**RANGE_REQUEST, "histograms": True})
    tied = [
        score["name"]
        for score in report["observables"]
        if len(set(score["histogram"]["edges"])) < len(score["histogram"]["edges"])
    ]
    assert tied  # the check below means something: some reference has a point mass
    histograms = [m for m in _measure(tab) if m["observable"]]
    assert len(histograms) == len(report["observables"])
    displays = {score["name"]: score["display"] for score in report["observables"]}
    for plot in histograms:
        # drawn as the report gives it: the densities of its display histogram, not re-binned
        display = displays[plot["observable"]]
        assert plot["drawn"] == [display["reference"]["density"], display["candidate"]["density"]]
        top = plot["yRange"][1]
        data_top = plot["dataTop"]
        if plot["yType"] == "log":
            assert top <= np.log10(data_top) + 0.25, (plot["observable"], top, data_top)
        else:
            assert top <= 1.25 * data_top, (plot["observable"], top, data_top)
    tab.page.locator(f"#histograms [data-observable='{tied[0]}']").screenshot(
        path=str(tab.screenshots / "point-mass.png")
    )
    assert tab.console_errors == [] and tab.blocked == []


def test_legends_never_cover_a_plot_area(tab: BrowserTab) -> None:
    open_model_and_generate(tab)
    measured = [m for m in _measure(tab) if m["legend"] is not None]
    profiles = tab.page.locator("#layer-profiles .js-plotly-plot").count()
    assert len(measured) >= profiles + 3  # profiles, response, sparsity, histograms
    assert "voxel-spectrum" in [plot["id"] for plot in measured]
    for plot in measured:
        assert plot["areas"], plot
        for area in plot["areas"]:
            assert not _overlap(plot["legend"], area), plot
        assert plot["titleBox"] and not _overlap(plot["legend"], plot["titleBox"]), plot
    tab.page.locator("#layer-profiles").screenshot(path=str(tab.screenshots / "profiles.png"))
    assert tab.console_errors == [] and tab.blocked == []


def test_off_scale_ratios_are_arrows_at_the_panel_edge(tab: BrowserTab) -> None:
    open_model_and_generate(tab)
    plots = tab.page.locator("#histograms .js-plotly-plot")
    n_arrows = 0
    for index in range(plots.count()):
        ratio = plots.nth(index).evaluate(RATIO)
        low, high = ratio["range"]
        assert all(low <= value <= high for value in ratio["inside"])
        assert all(low < value < high for value in ratio["arrows"])  # drawn inside the panel
        assert ratio["rendered"] == len(ratio["inside"]) + len(ratio["arrows"])
        for value, symbol in zip(ratio["arrows"], ratio["symbols"], strict=True):
            assert symbol == ("triangle-up" if value > 1 else "triangle-down")
        n_arrows += len(ratio["arrows"])
    assert n_arrows > 0  # the tiny model is poor: some of its ratios leave the panel
    assert tab.console_errors == [] and tab.blocked == []


def test_titles_use_symbols_and_energies_spanning_decades_start_on_log_axes(
    tab: BrowserTab,
) -> None:
    open_model_and_generate(tab)
    report = api_report(tab.url, {**RANGE_REQUEST, "histograms": True})
    by_name = {m["observable"]: m for m in _measure(tab) if m["observable"]}
    assert "E<sub>layer 0</sub>" in by_name["e_layer_00"]["title"]
    assert "E<sub>tot</sub>/E<sub>inc</sub>" in by_name["e_total_over_incident"]["title"]
    assert not [name for name, plot in by_name.items() if plot["title"].startswith(name)]
    for score in report["observables"]:
        display, plot = score["display"], by_name[score["name"]]
        edges = display["edges"]
        spans = edges is not None and edges[0] > 0 and edges[-1] / edges[0] > 100
        assert display["log_x"] == spans, score["name"]  # bins log-spaced over two decades
        assert plot["xType"] == ("log" if spans else "linear"), score["name"]
        assert plot["yType"] == ("log" if display["log_y"] else "linear"), score["name"]
        assert plot["scaleButtons"] == 2  # x and y: linear or log
    assert {plot["yType"] for plot in by_name.values()} == {"log", "linear"}  # both chosen
    page = tab.page
    plot = page.locator("#histograms [data-observable='e_layer_00']")
    plot.locator(".updatemenu-button", has_text="y log").click()
    assert plot.evaluate("gd => gd._fullLayout.yaxis.type") == "log"
    assert tab.console_errors == [] and tab.blocked == []


def test_calorimeter_metrics_are_drawn_from_the_report(tab: BrowserTab) -> None:
    open_model_and_generate(tab)
    report = api_report(tab.url, {**RANGE_REQUEST, "histograms": True})
    section = report["calorimeter"]
    page = tab.page
    rows = page.locator("#response-table tbody tr")
    assert rows.count() == len(section["energy_bins"]) > 0
    first = section["energy_bins"][0]["candidate"]
    assert f"{first['resolution']:.4g}" in rows.first.inner_text()
    response = page.locator("#response-plot").evaluate(
        "gd => gd.data.map(t => ({y: t.y, axis: t.yaxis}))"
    )
    resolutions = [t["y"] for t in response if t["axis"] == "y2"]
    assert resolutions == [
        [row["reference"]["resolution"] for row in section["energy_bins"]],
        [row["candidate"]["resolution"] for row in section["energy_bins"]],
    ]
    sparsity = page.locator("#sparsity-plot").evaluate("gd => gd.data.map(t => t.y)")
    assert sparsity == [section["reference_layer_sparsity"], section["candidate_layer_sparsity"]]
    spectrum = page.locator("#voxel-spectrum").evaluate(
        "gd => [gd._fullLayout.xaxis.type, gd._fullLayout.yaxis.type]"
    )
    assert spectrum == ["log", "log"]
    image = page.locator("#layer-image")
    z = image.evaluate("gd => gd.data.map(t => t.type + ':' + t.z.length + 'x' + t.z[0].length)")
    _, angles, radii = section["geometry_shape"]
    assert z == [f"heatmap:{angles}x{radii}"] * 3  # reference, generated, their ratio
    page.select_option("#image-layer", "3")
    page.wait_for_function(
        "() => document.querySelector('#layer-image').layout.title.text.includes('layer 3')"
    )
    ratio = image.evaluate("gd => gd.data[2].z")
    expected = np.array(section["candidate_layer_images"][3]) / np.array(
        section["reference_layer_images"][3]
    )
    np.testing.assert_allclose(np.array(ratio, dtype=float), expected, rtol=1e-9)
    tab.shot("calorimeter")
    page.locator("#calorimeter").screenshot(path=str(tab.screenshots / "calorimeter-panel.png"))
    assert tab.console_errors == [] and tab.blocked == []


def test_a_discrete_variable_is_drawn_as_bars(tab: BrowserTab) -> None:
    page = tab.page
    page.goto(f"{tab.url}/models/events_tiny")
    tab.enter_key(API_KEY)
    page.wait_for_selector("#generate-form")
    page.fill("#n-events", "2000")
    page.click("#generate")
    page.wait_for_selector("#result[data-drawn]", timeout=120_000)
    charge = page.locator("#histograms [data-observable='Q1']")
    kinds = charge.evaluate("gd => gd.data.filter(t => t.yaxis === 'y').map(t => t.type)")
    assert kinds == ["bar", "bar"]
    assert page.locator("#calorimeter").count() == 0  # events have no calorimeter section
    charge.screenshot(path=str(tab.screenshots / "charge-bars.png"))
    assert tab.console_errors == [] and tab.blocked == []


def test_prefilled_ranges_are_short_and_inside_the_training_range(tab: BrowserTab) -> None:
    page = tab.page
    page.goto(f"{tab.url}/models/showers_tiny")
    tab.enter_key(API_KEY)
    page.wait_for_selector("#generate-form")
    card = page.evaluate(
        "async () => (await HepganApi.getJson('/v1/models/showers_tiny')).card.condition_ranges"
    )
    low, high = card["incident_energy"]
    shown = [page.input_value(f"#cond-0-{field}") for field in ("min", "max", "value")]
    assert all(len(text.replace(".", "").replace("-", "").lstrip("0")) <= 6 for text in shown)
    assert low <= float(shown[0]) < float(shown[1]) <= high
    assert low <= float(shown[2]) <= high
    # A p-value that underflowed to 0 is shown as a bound, not as a p-value of 0.
    assert page.evaluate("() => HepganPlots.fmtP(0)") == "< 1e-300"
    assert page.evaluate("() => HepganPlots.fmtP(3e-12)") == "3.0e-12"
    assert tab.console_errors == [] and tab.blocked == []


def test_data_files_are_shown_by_base_name_only(tab: BrowserTab) -> None:
    page = tab.page
    page.goto(tab.url + "/")
    tab.enter_key(API_KEY)
    card = page.wait_for_selector(".model-card[data-model=events_tiny]").inner_text()
    assert Path(TRAINING_FILE).name in card and "4096 bytes" in card
    assert str(Path(TRAINING_FILE).parent) not in card  # the server's folders stay private
    assert tab.console_errors == [] and tab.blocked == []


def test_a_report_without_display_histograms_says_so_instead_of_drawing(tab: BrowserTab) -> None:
    """A report made before the display histograms (schema 3) has only the reference-quantile
    bins; the page no longer re-bins those, it says what is missing."""

    def as_schema_3(route) -> None:
        response = route.fetch()
        body = response.json()
        for score in body["report"]["observables"]:
            del score["display"]
        del body["report"]["calorimeter"]["voxel_spectrum"]["display"]
        body["report"]["schema_version"] = "3"
        route.fulfill(response=response, json=body)

    tab.page.route("**/v1/models/showers_tiny/generate", as_schema_3)
    open_model_and_generate(tab)
    page = tab.page
    n_observables = page.locator("#scores tbody tr").count()
    assert n_observables > 0
    assert page.get_attribute("#result", "data-drawn") == "0"
    assert page.locator("#histograms .js-plotly-plot").count() == 0
    assert page.inner_text("#no-display").startswith(f"no display histogram for {n_observables}")
    assert "no voxel spectrum" in page.inner_text("#voxel-spectrum")
    assert tab.console_errors == [] and tab.blocked == []
