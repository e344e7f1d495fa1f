"""Security: names and paths stay inside the models folder, no pickle is ever loaded, the API
key is required and compared in constant time, and the request limits hold.
"""

from __future__ import annotations

import ast
import http.client
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.reliability.conftest import (
    API_KEY,
    ESCAPING_FOLDER,
    ESCAPING_WEIGHTS,
    PICKLED_MODEL,
    SERVER_LIMITS,
    _TouchOnUnpickle,
)
from tests.reliability.figures import record_figures
from tests.support.cards import write_resealed_card
from tests.support.live_server import LiveServer

SERVICE_DIR = Path(__file__).resolve().parents[2] / "service"
# Raw request paths (sent byte for byte, no client-side normalisation) that try to leave
# /v1/models/{name} for a file elsewhere.
TRAVERSAL_NAMES = (
    "..",
    "../dimuon",
    "../../../../etc/passwd",
    "%2e%2e",
    "..%2Fdimuon",
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2Fetc%2Fpasswd",
    "dimuon%2F..%2Fshowers",
    "dimuon%00",
    "..%5C..%5Cwindows",
    "~root",
    ".",
)
PROTECTED = (
    ("GET", "/v1/models"),
    ("GET", "/v1/models/dimuon"),
    ("POST", "/v1/models/dimuon/generate"),
    ("GET", "/metrics"),
)


def _raw_request(server: LiveServer, method: str, path: str, body: bytes | None = None):
    """Send ``path`` exactly as written (http.client does not resolve dot segments)."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    headers = {**server.auth, "Content-Type": "application/json"}
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.slow
def test_model_names_cannot_reach_files_outside_the_models_folder(live_server: LiveServer) -> None:
    outcomes = {}
    for name in TRAVERSAL_NAMES:
        for method, path, body in (
            ("GET", f"/v1/models/{name}", None),
            ("POST", f"/v1/models/{name}/generate", b'{"n_events": 5}'),
        ):
            status, content = _raw_request(live_server, method, path, body)
            outcomes[f"{method} {path}"] = status
            assert status in (400, 404, 405, 422), (path, status, content[:300])
            assert b"root:" not in content and b"safetensors" not in content[:64]
    record_figures("security_traversal", {"requests": len(outcomes), "statuses": outcomes})


@pytest.mark.slow
def test_artefacts_reaching_outside_the_models_folder_are_not_served(
    live_server: LiveServer,
) -> None:
    readiness = httpx.get(f"{live_server.url}/readyz", timeout=10).json()
    for name in (ESCAPING_FOLDER, ESCAPING_WEIGHTS):
        assert name in readiness["broken"], readiness
        assert "outside" in readiness["broken"][name]
        card = httpx.get(f"{live_server.url}/v1/models/{name}", headers=live_server.auth)
        assert card.status_code == 404


@pytest.mark.slow
def test_pickled_weights_are_never_unpickled(
    live_server: LiveServer, models_dir: Path, unpickle_marker: Path, tmp_path: Path
) -> None:
    """The server already tried the pickled artefact at start-up; loaders here try again."""
    from hepgan.errors import ArtefactError
    from hepgan.models.artefact import load_artefact
    from hepgan.training.checkpoint import load_checkpoint

    readiness = httpx.get(f"{live_server.url}/readyz", timeout=10).json()
    assert PICKLED_MODEL in readiness["broken"]
    with pytest.raises(ArtefactError, match="generator.safetensors"):
        load_artefact(models_dir / PICKLED_MODEL)
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; the marker is the test
        load_checkpoint(models_dir / PICKLED_MODEL / "generator.safetensors")
    assert not unpickle_marker.exists(), "a loader unpickled the weights file and ran its code"


@pytest.mark.slow
def test_pickled_reference_sample_is_refused(
    models_dir: Path, unpickle_marker: Path, tmp_path: Path
) -> None:
    """A reference sample as .npz holding an object array: np.load must not unpickle it."""
    import hashlib
    import shutil

    from hepgan.errors import ArtefactError
    from hepgan.models.artefact import load_artefact

    folder = shutil.copytree(models_dir / "dimuon", tmp_path / "npz-reference")
    (folder / "reference.safetensors").unlink()
    buffer = io.BytesIO()
    payload = np.array([_TouchOnUnpickle(unpickle_marker)], dtype=object)
    np.savez(buffer, features=payload, conditions=payload)
    (folder / "reference.npz").write_bytes(buffer.getvalue())
    card = json.loads((folder / "model.json").read_text())
    del card["checksums"]["reference.safetensors"]
    card["reference"]["file"] = "reference.npz"
    card["checksums"]["reference.npz"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    write_resealed_card(folder, card)
    with pytest.raises(ArtefactError, match="reference.npz"):
        load_artefact(folder).reference()
    assert not unpickle_marker.exists()


@pytest.mark.slow
def test_card_cannot_name_files_outside_its_folder_or_pickles(
    models_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from hepgan.errors import ArtefactError
    from hepgan.models.artefact import load_artefact

    for weights_name in ("../dimuon/generator.safetensors", "/etc/passwd", "generator.pt"):
        folder = shutil.copytree(models_dir / "dimuon", tmp_path / f"card-{len(weights_name)}")
        card = json.loads((folder / "model.json").read_text())
        card["checksums"][weights_name] = card["checksums"].pop("generator.safetensors")
        card["weights_file"] = weights_name
        write_resealed_card(folder, card)
        with pytest.raises(ArtefactError, match="only plain file names"):
            load_artefact(folder)


@pytest.fixture(scope="module")
def anonymous(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


@pytest.mark.slow
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer " + "x" * len(API_KEY),
        "Bearer " + API_KEY[:-1],
        "Bearer " + API_KEY + "x",
        "Bearer " + API_KEY.upper(),
        "Basic " + API_KEY,
        API_KEY,
    ],
    ids=["none", "empty", "same-length", "prefix", "longer", "case", "basic", "no-scheme"],
)
def test_api_key_is_required(anonymous: httpx.Client, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in PROTECTED:
        body = {"n_events": 5} if method == "POST" else None
        response = anonymous.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert API_KEY not in response.text


@pytest.mark.slow
def test_right_key_passes_and_health_routes_are_open(
    anonymous: httpx.Client, live_server: LiveServer
) -> None:
    for method, path in PROTECTED:
        body = {"n_events": 5, "validate": False} if method == "POST" else None
        response = anonymous.request(method, path, json=body, headers=live_server.auth)
        assert response.status_code == 200, (method, path, response.text)
    for path in ("/healthz", "/readyz"):
        assert anonymous.get(path).status_code == 200


def _key_comparisons(tree: ast.AST) -> tuple[list[str], list[str]]:
    """(constant-time calls, plain ==/!= comparisons) that involve the API key or credentials."""
    constant_time, plain = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("compare_digest"):
            constant_time.append(ast.unparse(node))
        if isinstance(node, ast.Compare) and any(
            isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops
        ):
            source = ast.unparse(node)
            if "api_key" in source or "credentials" in source or "secret" in source:
                plain.append(source)
    return constant_time, plain


def test_api_key_is_compared_in_constant_time() -> None:
    constant_time, plain = [], []
    for path in sorted(SERVICE_DIR.rglob("*.py")):
        found, compared = _key_comparisons(ast.parse(path.read_text(), filename=str(path)))
        constant_time += found
        plain += [f"{path.name}: {source}" for source in compared]
    assert constant_time, "no hmac/secrets.compare_digest call in the service"
    assert not plain, f"the key is compared with == or != (timing leak): {plain}"


@pytest.mark.slow
def test_request_limits_hold(anonymous: httpx.Client, live_server: LiveServer) -> None:
    limit_events = int(SERVER_LIMITS["HEPGAN_MAX_EVENTS_PER_REQUEST"])
    limit_bytes = int(SERVER_LIMITS["HEPGAN_MAX_BODY_BYTES"])
    path = "/v1/models/dimuon/generate"
    at_limit = anonymous.post(
        path,
        json={"n_events": limit_events, "format": "npz", "validate": False},
        headers=live_server.auth,
    )
    assert at_limit.status_code == 200
    over = anonymous.post(path, json={"n_events": limit_events + 1}, headers=live_server.auth)
    assert over.status_code == 422
    assert over.json()["detail"][0]["loc"][-1] == "n_events"
    big_body = json.dumps({"n_events": 1, "padding": "x" * limit_bytes}).encode()
    declared = anonymous.post(
        path, content=big_body, headers={**live_server.auth, "Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert str(limit_bytes) in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        for start in range(0, len(big_body), 8192):
            yield big_body[start : start + 8192]

    chunked = anonymous.post(
        path, content=chunks(), headers={**live_server.auth, "Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    record_figures(
        "security_limits",
        {
            "at_event_limit": at_limit.status_code,
            "over_event_limit": over.status_code,
            "over_body_limit_declared": declared.status_code,
            "over_body_limit_chunked": chunked.status_code,
        },
    )
