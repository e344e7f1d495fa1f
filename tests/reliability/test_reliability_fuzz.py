"""Fuzz: schemathesis against the live server's /openapi.json, a bounded number of cases.

Holds when no check fails: no 5xx, every status code documented, every body
conforming to its response schema and content type, malformed input rejected,
the API key enforced where the schema declares it. Model names are drawn from the
served models three times in four (so generated bodies reach the generators) and are
arbitrary strings otherwise.

``positive_data_acceptance`` is left out: the schema cannot say which requests a
deployment must refuse although they are well-formed (the event limit is a setting,
and conditions outside a model's training range depend on the model), and those
refusals are the service's job (tests/service, and the limits under load here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import GOOD_MODELS
from tests.reliability.figures import record_figures
from tests.support.live_server import LiveServer

EXAMPLES_PER_OPERATION = int(os.environ.get("HEPGAN_FUZZ_EXAMPLES", "50"))
SEED = 20261126


def _config(path: Path) -> Path:
    names = ", ".join(f'"{name}"' for name in GOOD_MODELS)
    path.write_text(
        f"[dictionaries.models]\nvalues = [{names}]\n\n"
        '[parameters]\n"path.name" = { dictionary = "models", probability = 0.75 }\n'
    )
    return path


@pytest.mark.slow
def test_schemathesis_finds_no_failure(live_server: LiveServer, tmp_path: Path) -> None:
    report = tmp_path / "schemathesis.json"
    command = [sys.executable, "-m", "schemathesis.cli"]
    command += ["--config-file", str(_config(tmp_path / "schemathesis.toml")), "--no-color"]
    command += ["run", f"{live_server.url}/openapi.json"]
    command += ["--header", f"Authorization: Bearer {live_server.api_key}"]
    command += ["--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", str(SEED)]
    command += ["--workers", "1", "--request-timeout", "60"]
    command += ["--exclude-checks", "positive_data_acceptance"]
    command += ["--report", "json", "--report-json-path", str(report)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    run = json.loads(report.read_text())
    record_figures(
        "fuzz",
        {
            "schemathesis": run["schemathesis_version"],
            "seed": SEED,
            "max_examples_per_operation": EXAMPLES_PER_OPERATION,
            "operations_tested": run["operations"]["tested"],
            "cases_generated": run["test_cases"]["generated"],
            "cases_with_failures": run["test_cases"]["with_failures"],
            "unique_failures": run["test_cases"]["unique_failures"],
            "errors": len(run["errors"]),
            "failures": [f"{f['code']} {f['title']}: {f['operations']}" for f in run["failures"]],
            "running_time_s": round(run["running_time"], 1),
        },
    )
    assert run["complete"], result.stdout[-4000:]
    assert run["operations"]["tested"] == run["operations"]["total"]
    assert not run["failures"] and not run["errors"], result.stdout[-8000:]
    assert result.returncode == 0, result.stdout[-4000:]
