"""The validation report of every batch: right verdicts, matched conditions, summary headers."""

from __future__ import annotations

import httpx

from hepgan.client import read_npz_batch
from tests.service.conftest import REPORT_MAX_EVENTS


def _report(http: httpx.Client, model: str, **body: object) -> tuple[dict, httpx.Headers]:
    response = http.post(f"/v1/models/{model}/generate", json={"format": "npz", **body})
    assert response.status_code == 200, response.text
    return read_npz_batch(response.content).report, response.headers


def test_known_good_model_passes(http: httpx.Client) -> None:
    report, headers = _report(http, "dimuon_exact", n_events=REPORT_MAX_EVENTS, seed=1)
    summary = report["summary"]
    assert summary["status"] == "pass", summary["reasons"]
    assert summary["worst_ks"] < summary["ks_critical_value"]
    assert summary["n_failing"] == 0
    assert headers["X-HEPGAN-Validation-Status"] == "pass"
    assert [score["name"] for score in report["observables"]] == ["E1", "E2", "Q1"]
    assert {score["unit"] for score in report["observables"]} == {"GeV", "e"}


def test_known_bad_model_fails_and_says_why(http: httpx.Client) -> None:
    report, headers = _report(http, "dimuon_untrained", n_events=1000, seed=1)
    summary = report["summary"]
    assert summary["status"] == "fail"
    assert (
        summary["worst_ks"] > summary["ks_critical_value"] + report["thresholds"]["ks_fail_excess"]
    )
    assert any("fail threshold" in reason for reason in summary["reasons"])
    assert headers["X-HEPGAN-Validation-Status"] == "fail"
    assert headers["X-HEPGAN-Worst-Observable"] == summary["worst_observable"]
    assert float(headers["X-HEPGAN-Worst-KS"]) == float(f"{summary['worst_ks']:.4g}")
    assert headers["X-HEPGAN-Failing-Observables"] == str(summary["n_failing"])


def test_reference_is_matched_to_the_requested_energy(http: httpx.Client) -> None:
    report, _ = _report(
        http, "showers_tiny", n_events=300, seed=1, conditions={"incident_energy": 20000.0}
    )
    selection = report["conditions"]
    (match,) = selection["variables"]
    assert match["name"] == "incident_energy" and match["mode"] == "window"
    low, high = match["window"]
    assert low <= 20000.0 <= high
    assert selection["n_reference_matched"] < selection["n_reference_total"]
    assert report["summary"]["n_reference"] == selection["n_reference_matched"]
    names = {score["name"]: score["unit"] for score in report["observables"]}
    assert names["e_layer_00"] == "MeV" and names["longitudinal_cog_x0"] == "X0"


def test_no_report_when_not_asked(http: httpx.Client) -> None:
    report, headers = _report(http, "dimuon_exact", n_events=10, seed=1, validate=False)
    assert report is None
    assert headers["X-HEPGAN-Validation-Status"] == "skipped"
    assert "X-HEPGAN-Worst-KS" not in headers
