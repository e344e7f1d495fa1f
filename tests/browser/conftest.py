"""Headless Chromium (Debian's ``chromium`` package, driven by Playwright) against a real
uvicorn server on 127.0.0.1 serving small trained models with an API key.

Playwright's own browser downloads are never used: the browser is the system chromium
(``scripts/install.sh`` installs it). Where it or the ``playwright`` package is missing,
the tests skip and say which. Every request the page makes to anything but the server is
blocked and recorded, so a test fails if the page needs the network. Screenshots go to
``$HEPGAN_SCREENSHOTS`` when set, else to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from hepgan.service.settings import Settings
from tests.support.cards import read_card, write_resealed_card
from tests.support.threaded_server import ThreadedServer, serve_in_thread

API_KEY = "page-test-key"
TOY_EVENTS = 3000
TRAINING_STEPS = 20  # two loss records and two validations in run/metrics.jsonl
TRAINING_FILE = "/srv/private/run-7/dimuon.root"  # the events model's "training file"
RANGE_REQUEST = {
    "n_events": 1500,
    "conditions": {"incident_energy": {"min": 2000, "max": 50000, "distribution": "log-uniform"}},
    "seed": 7,
}


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no chromium on PATH: install Debian's chromium package (scripts/install.sh does "
        "as root: apt-get install -y chromium)"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module: Playwright's sync API runs an event loop in the main
    thread while it is open, so it must be closed before other tests call asyncio.run."""
    executable = _chromium()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])"
    )
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def page_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shower model and an event model (with their run folders), and one broken folder."""
    from tests.support.tiny import make_tiny_artefact

    folder = tmp_path_factory.mktemp("page_models")
    make_tiny_artefact(
        folder / "showers_tiny", kind="showers", n_events=TOY_EVENTS, steps=TRAINING_STEPS
    )
    make_tiny_artefact(folder / "events_tiny", kind="events", n_events=TOY_EVENTS, steps=4)
    shutil.rmtree(folder / "events_tiny" / "run")  # an artefact copied without its history
    _record_data_file(folder / "events_tiny", TRAINING_FILE)
    (folder / "broken").mkdir()
    (folder / "broken" / "model.json").write_text("{}")
    return folder


def _record_data_file(folder: Path, data_file: str) -> None:
    """Record in an artefact's card that it was trained on ``data_file`` (a path on the
    training machine), as a training from files does; the toy models train from memory."""
    card = read_card(folder)
    card["training"]["data_files"] = [{"path": data_file, "sha256": "ab" * 32, "size_bytes": 4096}]
    write_resealed_card(folder, card)


@pytest.fixture(scope="module")
def page_server(page_models: Path) -> Iterator[ThreadedServer]:
    # With a key set the API docs need it too; a browser sends none, so open them here
    # (HEPGAN_PUBLIC_DOCS) to see them render offline. Their auth has its own tests.
    settings = Settings(
        models_dir=page_models,
        api_key=API_KEY,
        public_docs=True,
        warmup_events=64,
        chunk_events=1000,
    )
    yield from serve_in_thread(settings)


@dataclass
class BrowserTab:
    """One browser tab on the server, with what it logged and what it tried to fetch."""

    page: object
    url: str
    screenshots: Path
    console_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def enter_key(self, key: str) -> None:
        self.page.fill("#api-key", key)
        self.page.click(".key-prompt button[type=submit]")


@pytest.fixture
def tab(browser, page_server: ThreadedServer, tmp_path: Path, request) -> Iterator[BrowserTab]:
    screenshots = Path(os.environ.get("HEPGAN_SCREENSHOTS") or tmp_path / "screenshots")
    screenshots = screenshots / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    screenshots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    tab = BrowserTab(page=page, url=page_server.url, screenshots=screenshots)

    def offline(route) -> None:
        if route.request.url.startswith(page_server.url):
            route.continue_()
        else:
            tab.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    page.on(
        "console",
        lambda message: message.type == "error" and tab.console_errors.append(message.text),
    )
    page.on("pageerror", lambda error: tab.console_errors.append(f"uncaught: {error}"))
    yield tab
    context.close()


def api_report(url: str, body: dict) -> dict:
    response = httpx.post(
        f"{url}/v1/models/showers_tiny/generate",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=120,
    )
    response.raise_for_status()
    return response.json()["report"]


def open_model_and_generate(tab: BrowserTab) -> None:
    """Open the shower model's page, ask for RANGE_REQUEST in the form, wait for the plots."""
    page = tab.page
    page.goto(f"{tab.url}/models/showers_tiny")
    tab.enter_key(API_KEY)
    page.wait_for_selector("#generate-form")
    page.fill("#n-events", str(RANGE_REQUEST["n_events"]))
    page.fill("#seed", str(RANGE_REQUEST["seed"]))
    condition = RANGE_REQUEST["conditions"]["incident_energy"]
    page.select_option("#cond-0-mode", "range")
    page.fill("#cond-0-min", str(condition["min"]))
    page.fill("#cond-0-max", str(condition["max"]))
    page.select_option("#cond-0-distribution", condition["distribution"])
    page.click("#generate")
    page.wait_for_selector("#result[data-drawn]", timeout=120_000)
