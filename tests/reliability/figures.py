"""Where the reliability tests put their measured figures (scripts/reliability.sh collects them)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Print ``figures``; when ``HEPGAN_RELIABILITY_OUT`` names a folder, write ``name``.json."""
    text = json.dumps(figures, indent=1, sort_keys=True)
    print(f"\n{name}: {text}")
    folder = os.environ.get("HEPGAN_RELIABILITY_OUT")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.json").write_text(text + "\n")
