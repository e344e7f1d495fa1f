"""OpenAPI docs at /docs, with a request example for each output format; behind the API key
when one is set, unless HEPGAN_PUBLIC_DOCS opens them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hepgan.service.settings import Settings
from tests.support.threaded_server import serve_in_thread


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
        "/v1/models/{name}/history",
        "/v2",
        "/v2/health/live",
        "/v2/health/ready",
        "/v2/models/stats",
        "/v2/models/{name}",
        "/v2/models/{name}/config",
        "/v2/models/{name}/infer",
        "/v2/models/{name}/ready",
        "/v2/models/{name}/stats",
        "/v2/repository/index",
    ]  # the page's HTML and assets and the docs pages are left out on purpose
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


DOC_PATHS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


@pytest.mark.parametrize("public_docs", [False, True])
def test_docs_need_the_key_unless_opened(model_dir: Path, public_docs: bool) -> None:
    settings = Settings(models_dir=model_dir, api_key="k" * 32, public_docs=public_docs)
    for server in serve_in_thread(settings):
        for path in DOC_PATHS:
            anonymous = httpx.get(f"{server.url}{path}")
            assert anonymous.status_code == (200 if public_docs else 401), path
            keyed = httpx.get(
                f"{server.url}{path}", headers={"Authorization": "Bearer " + "k" * 32}
            )
            assert keyed.status_code == 200, path
