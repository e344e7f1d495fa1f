"""Issue 26, rows 11 and 12, against a live server on loopback: /history on a run folder it
cannot trust, redirects that stay on the site, the docs pages' Content-Security-Policy and
X-Frame-Options, /readyz without the values a broken card holds, HEAD /healthz."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hepgan.service.settings import Settings
from tests.support.threaded_server import ThreadedServer, serve_in_thread

TORN = "torn_history"  # run/metrics.jsonl with lines that are no history records
ESCAPING = "escaping_history"  # run/metrics.jsonl a symlink to a file outside the artefact
SECRET_PATH = "/home/alice/secret-project/model"  # a value the broken card holds
GOOD_LINE = b'{"step": 7, "losses": {"g": 1.5}}\n'
BAD_LINES = [
    b"[1, 2]\n",  # JSON, not an object
    b'{"step": "x", "losses": {"g": 1.0}}\n',  # a step that is no integer
    b'{"event": "validation", "metric": 0.5}\n',  # no step
    b'{"step": 3, "losses": {"g": "1.0"}}\n',  # a loss that is no number
    b"\xff\xfe not UTF-8\n",
    b'{"step": 9, "loss',  # torn by a stopped run
]


@pytest.fixture(scope="module")
def history_server(
    model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedServer]:
    """showers_tiny twice, one with bad lines in its history, one whose history leads outside;
    and a folder whose card holds a home path where the kind belongs."""
    folder = tmp_path_factory.mktemp("history-models")
    outside = tmp_path_factory.mktemp("outside") / "metrics.jsonl"
    shutil.copy(model_dir / "showers_tiny" / "run" / "metrics.jsonl", outside)
    for name in (TORN, ESCAPING):
        shutil.copytree(model_dir / "showers_tiny", folder / name)
    with open(folder / TORN / "run" / "metrics.jsonl", "ab") as lines:
        lines.writelines([GOOD_LINE, *BAD_LINES])
    (folder / ESCAPING / "run" / "metrics.jsonl").unlink()
    (folder / ESCAPING / "run" / "metrics.jsonl").symlink_to(outside)
    shutil.copytree(model_dir / "showers_tiny", folder / "home_path")
    card = json.loads((folder / "home_path" / "model.json").read_text())
    (folder / "home_path" / "model.json").write_text(json.dumps({**card, "kind": SECRET_PATH}))
    yield from serve_in_thread(Settings(models_dir=folder, warmup_events=0))


def test_history_skips_lines_that_are_no_records(history_server: ThreadedServer) -> None:
    response = httpx.get(f"{history_server.url}/v1/models/{TORN}/history", timeout=30)
    assert response.status_code == 200, response.text
    history = response.json()
    assert history["available"] and history["validations"]
    assert {"step": 7, "losses": {"g": 1.5}} in history["losses"]
    # [1, 2], the bytes that are not UTF-8 and the torn line; the others are skipped records
    assert "3 unreadable lines skipped" in history["message"]


def test_history_symlinked_outside_the_artefact_is_not_read(
    history_server: ThreadedServer,
) -> None:
    response = httpx.get(f"{history_server.url}/v1/models/{ESCAPING}/history", timeout=30)
    assert response.status_code == 200, response.text
    history = response.json()
    assert not history["available"] and history["losses"] == []
    assert "run/metrics.jsonl leads outside the artefact folder" in history["message"]


def test_readyz_names_the_bad_field_without_its_value(history_server: ThreadedServer) -> None:
    broken = httpx.get(f"{history_server.url}/readyz", timeout=30).json()["broken"]
    reason = broken["home_path"]
    assert "kind" in reason and "is not a valid model card" in reason, reason
    assert "alice" not in reason and "secret-project" not in reason, reason


def test_a_trailing_slash_redirect_stays_on_the_site(http: httpx.Client) -> None:
    for path, target in (("/docs/", "/docs"), ("/v1/models/?x=1", "/v1/models?x=1")):
        response = http.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert response.status_code == 307, response.text
        assert response.headers["location"] == target
    assert http.get("/docs/", follow_redirects=True).status_code == 200


def _inline_script_hashes(html: str) -> set[str]:
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    }


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_docs_pages_allow_their_own_scripts_only_and_no_framing(
    http: httpx.Client, path: str
) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    policy = dict(
        (directive.split(" ", 1) + [""])[:2]
        for directive in response.headers["content-security-policy"].split("; ")
    )
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    allowed_scripts = set(policy["script-src"].split())
    assert allowed_scripts == {"'self'", *_inline_script_hashes(response.text)}
    assert "'unsafe-inline'" not in allowed_scripts


def test_head_healthz_is_200(http: httpx.Client) -> None:
    response = http.head("/healthz")
    assert response.status_code == 200 and response.content == b""
