"""Take docs/web-page.png: the web page of a served model after one generated batch.

    python scripts/screenshot_page.py [--models examples/models] [--model showers_small]
        [--events 10000] [--seed 1] [--height 2600] [-o docs/web-page.png]

Serves ``--models`` on a free loopback port (a real uvicorn server), opens
``/models/MODEL`` in Debian's Chromium through Playwright (what the browser tests use), asks
for ``--events`` events with ``--seed`` in the page's form, waits until the plots are drawn
and saves the top ``--height`` pixels of the page (summary, scores, the calorimeter's
response, resolution and per-layer images; the histograms continue below).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support, when run as a script from a checkout

from hepgan.service.settings import Settings  # noqa: E402
from tests.support.threaded_server import serve_in_thread  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=ROOT / "examples" / "models")
    parser.add_argument("--model", default="showers_small")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--height", type=int, default=2600, help="pixels of the page kept")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "web-page.png")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("screenshot_page.py: no chromium on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    server = serve_in_thread(Settings(models_dir=args.models, device="cpu"))
    live = next(server)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": args.height})
            page.goto(f"{live.url}/models/{args.model}")
            page.wait_for_selector("#generate-form")
            page.fill("#n-events", str(args.events))
            page.fill("#seed", str(args.seed))
            page.click("#generate")
            page.wait_for_selector("#result[data-drawn]", timeout=300_000)
            page.screenshot(path=str(args.output))
            browser.close()
    finally:
        server.close()
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
