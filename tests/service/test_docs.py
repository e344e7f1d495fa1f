"""OpenAPI docs at /docs, with a request example for each output format."""

from __future__ import annotations

import httpx


def test_docs_page_and_schema_with_examples_per_format(http: httpx.Client) -> None:
    page = http.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    schema = http.get("/openapi.json").json()
    assert sorted(schema["paths"]) == [
        "/healthz",
        "/metrics",
        "/readyz",
        "/v1/models",
        "/v1/models/{name}",
        "/v1/models/{name}/generate",
        "/v2",
        "/v2/health/live",
        "/v2/health/ready",
        "/v2/models/{name}",
        "/v2/models/{name}/infer",
        "/v2/models/{name}/ready",
    ]
    operation = schema["paths"]["/v1/models/{name}/generate"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert sorted(example["value"].get("format", "json") for example in examples.values()) == [
        "arrow",
        "json",
        "npz",
        "root",
    ]
    assert sorted(operation["responses"]["200"]["content"]) == [
        "application/json",
        "application/vnd.apache.arrow.stream",
        "application/x-npz",
        "application/x-root",
    ]
    assert {"404", "413", "422"} <= set(operation["responses"])


def test_examples_are_valid_requests(http: httpx.Client) -> None:
    operation = http.get("/openapi.json").json()["paths"]["/v1/models/{name}/generate"]["post"]
    for example in operation["requestBody"]["content"]["application/json"]["examples"].values():
        body = {**example["value"], "n_events": min(example["value"]["n_events"], 50)}
        response = http.post("/v1/models/showers_tiny/generate", json=body)
        assert response.status_code == 200, (example["summary"], response.text)
