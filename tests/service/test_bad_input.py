"""Bad requests get a 4xx whose detail names the field (or the limit), never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.service.conftest import MAX_BODY_BYTES, MAX_EVENTS

SHOWERS = "/v1/models/showers_tiny/generate"
EVENTS = "/v1/models/dimuon_exact/generate"


def _detail(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({}, ["body", "n_events"], "Field required"),
        ({"n_events": "10"}, ["body", "n_events"], "Input should be a valid integer"),
        ({"n_events": 1.5}, ["body", "n_events"], "Input should be a valid integer"),
        ({"n_events": 0}, ["body", "n_events"], "Input should be greater than 0"),
        ({"n_events": 5, "seed": -1}, ["body", "seed"], "greater than or equal to 0"),
        (
            {"n_events": 5, "format": "csv"},
            ["body", "format"],
            "'json', 'root', 'npz', 'arrow' or 'npy'",
        ),
        ({"n_events": 5, "validate": "yes"}, ["body", "validate"], "valid boolean"),
        ({"n_events": 5, "n_evnts": 5}, ["body", "n_evnts"], "Extra inputs are not permitted"),
        (
            {"n_events": 5, "conditions": {"incident_energy": "high"}},
            ["body", "conditions", "incident_energy", "value"],
            "valid number",
        ),
        (
            {"n_events": 5, "conditions": {"incident_energy": {"min": 5000, "max": 2000}}},
            ["body", "conditions", "incident_energy", "range"],
            "min (5000.0) must not exceed max (2000.0)",
        ),
        (
            {
                "n_events": 5,
                "conditions": {
                    "incident_energy": {"min": 0, "max": 2000, "distribution": "log-uniform"}
                },
            },
            ["body", "conditions", "incident_energy", "range"],
            "log-uniform needs min > 0",
        ),
        (
            {
                "n_events": 5,
                "conditions": {
                    "incident_energy": {"min": 2000, "max": 3000, "distribution": "gauss"}
                },
            },
            ["body", "conditions", "incident_energy", "range", "distribution"],
            "'uniform' or 'log-uniform'",
        ),
        (
            {"n_events": 3, "conditions": {"incident_energy": [2000, 3000]}},
            ["body", "conditions", "incident_energy"],
            "2 per-event values given for n_events=3",
        ),
        (
            {"n_events": 3, "conditions": {"energy": 2000}},
            ["body", "conditions", "energy"],
            "unknown condition; this model's conditions: incident_energy",
        ),
        (
            {"n_events": 3, "conditions": {"incident_energy": 5e6}},
            ["body", "conditions", "incident_energy"],
            "5e+06 is outside the training range [",
        ),
        (
            {"n_events": MAX_EVENTS + 1},
            ["body", "n_events"],
            f"{MAX_EVENTS + 1} events asked; the limit is {MAX_EVENTS} per request",
        ),
    ],
)
def test_422_names_the_field(
    http: httpx.Client, body: dict[str, Any], loc: list[str], message: str
) -> None:
    detail = _detail(http.post(SHOWERS, json=body), 422)
    matching = [item for item in detail if item["loc"] == loc]
    assert matching, f"no error at {loc}: {detail}"
    assert message in matching[0]["msg"]


def test_out_of_range_message_gives_the_range_and_the_way_out(http: httpx.Client) -> None:
    body = {"n_events": 3, "conditions": {"incident_energy": {"min": 10, "max": 5000}}}
    (item,) = _detail(http.post(SHOWERS, json=body), 422)
    low, high = http.get("/v1/models/showers_tiny").json()["card"]["condition_ranges"][
        "incident_energy"
    ]
    assert item["msg"] == (
        f"[10, 5000] is outside the training range [{low:g}, {high:g}]; "
        'send "extrapolate": true to allow it'
    )


def test_extrapolation_is_allowed_on_request_and_flagged(http: httpx.Client) -> None:
    body = {"n_events": 30, "seed": 1, "conditions": {"incident_energy": 5e5}, "extrapolate": True}
    response = http.post(SHOWERS, json=body)
    assert response.status_code == 200
    assert response.headers["X-HEPGAN-Extrapolated"] == "true"
    assert response.json()["report"]["summary"]["extrapolated"] is True


def test_extrapolation_too_far_for_a_report_is_422(http: httpx.Client) -> None:
    body = {"n_events": 30, "conditions": {"incident_energy": 1e300}, "extrapolate": True}
    (item,) = _detail(http.post(SHOWERS, json=body), 422)
    assert item["loc"] == ["body", "conditions"]
    assert item["msg"].startswith("this far outside the training range the model gives non-finite")
    unvalidated = http.post(SHOWERS, json={**body, "validate": False, "format": "npz"})
    assert unvalidated.status_code == 200


def test_conditions_for_an_unconditional_model(http: httpx.Client) -> None:
    detail = _detail(http.post(EVENTS, json={"n_events": 3, "conditions": {"E": 1}}), 422)
    assert detail[0]["msg"] == "unknown condition; this model's conditions: none"


def test_malformed_json_is_422(http: httpx.Client) -> None:
    response = http.post(
        SHOWERS, content=b'{"n_events": 3,', headers={"Content-Type": "application/json"}
    )
    assert _detail(response, 422)[0]["type"] == "json_invalid"


def test_body_without_json_content_type_says_what_to_send(http: httpx.Client) -> None:
    response = http.post(
        SHOWERS, content=b'{"n_events": 3}', headers={"Content-Type": "text/plain"}
    )
    (item,) = _detail(response, 422)
    assert item["loc"] == ["body"]
    assert (
        item["msg"] == "the body must be a JSON object sent with 'Content-Type: application/json'"
    )


@pytest.mark.parametrize(
    "item", [b"[[[[[[[]]]]]]]", b"[]", b"{}"], ids=["nested", "empty", "object"]
)
def test_nesting_is_refused_before_parsing(http: httpx.Client, item: bytes) -> None:
    """Per-event items that are lists or objects (a million nested lists took 11 s to parse):
    a generate request holds one list or range per condition, so the brackets are counted."""
    n_items = (MAX_BODY_BYTES - 100) // (len(item) + 1)
    body = b'{"n_events": %d, "conditions": {"incident_energy": [%s]}}' % (
        n_items,
        b",".join([item] * n_items),
    )
    response = http.post(SHOWERS, content=body, headers={"Content-Type": "application/json"})
    (error,) = _detail(response, 422)
    assert error["type"] == "too_many_containers" and error["loc"] == ["body"]
    assert error["msg"].endswith("lists and objects; a generate request has at most 256")


def test_body_that_is_not_an_object_is_422(http: httpx.Client) -> None:
    (item,) = _detail(http.post(SHOWERS, json=[1, 2]), 422)
    assert item["loc"] == ["body"]
    assert item["msg"] == "Input should be an object"


def test_body_over_the_limit_is_413(http: httpx.Client) -> None:
    energies = [5000.0] * (MAX_BODY_BYTES // 6)
    body = {"n_events": len(energies), "conditions": {"incident_energy": energies}}
    detail = _detail(http.post(SHOWERS, json=body), 413)
    assert detail == (
        f"request body exceeds the limit of {MAX_BODY_BYTES} bytes (HEPGAN_MAX_BODY_BYTES)"
    )


def test_chunked_body_over_the_limit_is_413(http: httpx.Client) -> None:
    def chunks():  # no Content-Length: the server counts as it reads
        yield b'{"n_events": 3, "conditions": {"incident_energy": ['
        for _ in range(MAX_BODY_BYTES // 1000 + 1):
            yield b"5000.0," * 143
        yield b"5000.0]}}"

    response = http.post(SHOWERS, content=chunks(), headers={"Content-Type": "application/json"})
    assert "HEPGAN_MAX_BODY_BYTES" in _detail(response, 413)


def test_non_finite_condition_is_422(http: httpx.Client) -> None:
    response = http.post(
        SHOWERS,
        content=b'{"n_events": 2, "conditions": {"incident_energy": [NaN, 5000]}}',
        headers={"Content-Type": "application/json"},
    )
    (item,) = _detail(response, 422)
    assert item["loc"] == ["body", "conditions", "incident_energy"]
    assert item["msg"] == "values must be finite"
