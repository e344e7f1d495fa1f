"""Every output format parsed back with its own reader, the report inside each, and streaming."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import uproot

from hepgan.client import read_npz_batch
from tests.service.conftest import CHUNK_EVENTS, REPORT_MAX_EVENTS

URL = "/v1/models/showers_tiny/generate"
ENERGIES = {"incident_energy": {"min": 2000, "max": 50000, "distribution": "log-uniform"}}


def _post(http: httpx.Client, **body: object) -> httpx.Response:
    response = http.post(URL, json=body)
    assert response.status_code == 200, response.text
    return response


def _npz(http: httpx.Client, n_events: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    batch = read_npz_batch(
        _post(
            http, n_events=n_events, seed=seed, format="npz", conditions=ENERGIES, validate=False
        ).content
    )
    return batch.features, batch.conditions


def test_json_has_events_names_units_and_report(http: httpx.Client) -> None:
    response = _post(http, n_events=20, seed=1, conditions=ENERGIES)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["model"] == "showers_tiny" and body["n_events"] == 20 and body["seed"] == 1
    assert body["condition_names"] == ["incident_energy"] and body["condition_units"] == ["MeV"]
    features = np.array(body["features"], dtype=np.float32)  # (20, 120)
    conditions = np.array(body["conditions"])  # (20, 1)
    assert features.shape == (20, 120) and conditions.shape == (20, 1)
    assert np.all((conditions >= 2000) & (conditions <= 50000))
    assert body["report"]["summary"]["n_candidate"] == 20
    npz_features, npz_conditions = _npz(http, 20, 1)
    np.testing.assert_array_equal(features, npz_features)  # float32 survives JSON exactly
    np.testing.assert_array_equal(conditions, npz_conditions)


def test_npy_is_an_alias_of_npz(http: httpx.Client) -> None:
    """The format's earlier name gets the same response: same type, file name and bytes."""
    npz = _post(http, n_events=30, seed=6, format="npz")
    npy = _post(http, n_events=30, seed=6, format="npy")
    assert npy.headers["content-type"] == npz.headers["content-type"] == "application/x-npz"
    assert npy.headers["content-disposition"] == npz.headers["content-disposition"]
    assert npz.headers["content-disposition"].endswith('.npz"')
    assert npy.content == npz.content


def test_npz_entries_load_without_pickle(http: httpx.Client) -> None:
    response = _post(http, n_events=50, seed=2, format="npz")
    assert response.headers["content-type"] == "application/x-npz"
    with np.load(io.BytesIO(response.content), allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(
            [
                "feature_names",
                "feature_units",
                "condition_names",
                "condition_units",
                "meta",
                "report",
                "features",
                "conditions",
            ]
        )
        assert archive["features"].dtype == np.float32 and archive["features"].shape == (50, 120)
        assert archive["conditions"].dtype == np.float64 and archive["conditions"].shape == (50, 1)
        assert archive["feature_names"][0] == "voxels[0]"
        report = json.loads(archive["report"].item())
        assert json.loads(archive["meta"].item())["seed"] == 2
    assert report["summary"]["status"] == response.headers["X-HEPGAN-Validation-Status"]


def test_arrow_stream_has_output_columns_and_report_in_schema(http: httpx.Client) -> None:
    response = _post(http, n_events=2500, seed=3, format="arrow", conditions=ENERGIES)
    assert response.headers["content-type"] == "application/vnd.apache.arrow.stream"
    reader = pa.ipc.open_stream(response.content)
    report = json.loads(reader.schema.metadata[b"report"])
    table = reader.read_all()
    assert table.column_names == ["incident_energy", "voxels"]
    assert table.schema.field("voxels").type == pa.list_(pa.float32(), 120)
    voxels = np.stack(table.column("voxels").to_numpy(zero_copy_only=False))  # (N, 120)
    features, conditions = _npz(http, 2500, 3)
    np.testing.assert_array_equal(voxels, features)
    np.testing.assert_array_equal(table.column("incident_energy").to_numpy(), conditions[:, 0])
    assert report["scope"]["events_validated"] == REPORT_MAX_EVENTS


def test_root_file_has_the_generate_layout_and_report(http: httpx.Client) -> None:
    response = _post(http, n_events=2500, seed=4, format="root", conditions=ENERGIES)
    assert response.headers["content-type"] == "application/x-root"
    with uproot.open(io.BytesIO(response.content)) as file:
        tree = file["showers"]
        assert tree.classname == "TTree"
        assert set(tree.keys()) == {"incident_energy", "voxels"}
        arrays = tree.arrays(library="np")
        report = json.loads(str(file["report"]))
        assert str(file["model"]) == "showers_tiny"  # the key hepgan generate writes
    assert arrays["voxels"].dtype == np.float32 and arrays["voxels"].shape == (2500, 120)
    features, conditions = _npz(http, 2500, 4)
    np.testing.assert_array_equal(arrays["voxels"], features)
    np.testing.assert_array_equal(arrays["incident_energy"], conditions[:, 0])
    assert report["summary"]["status"] in {"pass", "warn", "fail"}


def test_large_batch_streams_and_says_what_the_report_covers(http: httpx.Client) -> None:
    n_events = 3 * CHUNK_EVENTS + 500
    with http.stream("POST", URL, json={"n_events": n_events, "seed": 5, "format": "npz"}) as r:
        assert r.status_code == 200
        assert r.headers["transfer-encoding"] == "chunked"
        parts = list(r.iter_raw())
        headers = r.headers
    batch = read_npz_batch(b"".join(parts))
    assert batch.features.shape == (n_events, 120)
    scope = batch.report["scope"]
    assert scope == {
        "events_in_batch": n_events,
        "events_validated": REPORT_MAX_EVENTS,
        "subsample": (
            f"the first {REPORT_MAX_EVENTS} events (independent draws: a random subsample)"
        ),
    }
    assert batch.report["summary"]["n_candidate"] == REPORT_MAX_EVENTS
    assert headers["X-HEPGAN-Events-Validated"] == str(REPORT_MAX_EVENTS)


def test_same_seed_same_events_other_seed_other_events(http: httpx.Client) -> None:
    first = _npz(http, 2 * CHUNK_EVENTS + 10, 11)
    again = _npz(http, 2 * CHUNK_EVENTS + 10, 11)
    other = _npz(http, 2 * CHUNK_EVENTS + 10, 12)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])
    # Events depend on the seed and the chunk only: a shorter request is a prefix.
    prefix = _npz(http, CHUNK_EVENTS, 11)
    np.testing.assert_array_equal(prefix[0], first[0][:CHUNK_EVENTS])


def test_condition_forms(http: httpx.Client) -> None:
    scalar = read_npz_batch(
        _post(http, n_events=5, seed=1, format="npz", conditions={"incident_energy": 7000}).content
    )
    assert np.all(scalar.conditions == 7000.0)
    energies = [3000.0, 4000.0, 5000.0, 60000.0, 90000.0]
    per_event = read_npz_batch(
        _post(
            http, n_events=5, seed=1, format="npz", conditions={"incident_energy": energies}
        ).content
    )
    np.testing.assert_array_equal(per_event.conditions[:, 0], energies)
    uniform = read_npz_batch(
        _post(
            http,
            n_events=2000,
            seed=1,
            format="npz",
            conditions={"incident_energy": {"min": 10000, "max": 20000, "distribution": "uniform"}},
        ).content
    )
    values = uniform.conditions[:, 0]
    assert values.min() >= 10000 and values.max() <= 20000
    assert abs(values.mean() - 15000) < 300  # uniform: mean 15000, std of the mean 65
    log_uniform = _npz(http, 2000, 1)[1][:, 0]
    # log-uniform on [2000, 50000]: the median is sqrt(2000 * 50000) = 10000
    assert 9000 < np.median(log_uniform) < 11000
    # No distribution named: the rule of hepgan generate, log-uniform since min > 0 (a uniform
    # draw's median would be 26000)
    default = read_npz_batch(
        _post(
            http,
            n_events=2000,
            seed=1,
            format="npz",
            conditions={"incident_energy": {"min": 2000, "max": 50000}},
        ).content
    )
    assert 9000 < np.median(default.conditions[:, 0]) < 11000


def test_missing_conditions_follow_the_reference(http: httpx.Client, model_dir: Path) -> None:
    from hepgan.models.artefact import load_artefact

    batch = read_npz_batch(_post(http, n_events=200, seed=1, format="npz").content)
    reference_energies = load_artefact(model_dir / "showers_tiny").reference()[1][:, 0]
    assert np.isin(batch.conditions[:, 0].astype(np.float32), reference_energies).all()


def test_streamed_json_is_one_valid_document(http: httpx.Client) -> None:
    n_events = 2 * CHUNK_EVENTS + 7
    response = _post(http, n_events=n_events, seed=6, conditions=ENERGIES, validate=False)
    assert response.headers["transfer-encoding"] == "chunked"
    body = response.json()
    features, conditions = _npz(http, n_events, 6)
    np.testing.assert_array_equal(np.array(body["features"], dtype=np.float32), features)
    np.testing.assert_array_equal(np.array(body["conditions"]), conditions)
    assert body["report"] is None
