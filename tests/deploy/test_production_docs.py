"""The sharded-production recipes of docs/deployment.md: the Kubernetes indexed Job is valid
against the API schema, and every ``hepgan generate`` line there parses with hepgan's own
argument parser (a renamed flag fails CI)."""

from __future__ import annotations

import re
import shlex

import kubernetes_validate
import pytest
import yaml

from hepgan.cli import build_parser
from tests.deploy.deploy_helpers import REPO_ROOT

DOC = REPO_ROOT / "docs" / "deployment.md"


def _section() -> str:
    text = DOC.read_text()
    start = text.index("## Sharded mass production")
    return text[start : text.index("\n## ", start + 1)]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _section(), flags=re.S)


def _job() -> dict:
    (block,) = _blocks("yaml")
    return yaml.safe_load(block)


def _generate_lines() -> list[list[str]]:
    """Every ``hepgan generate`` command of the section, as argv after ``hepgan``."""
    commands = []
    for block in _blocks("bash"):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = re.sub(r"\[[^]]*\]", "", line)  # optional parts shown in brackets
            if "hepgan.cli generate" in line or line.strip().startswith("hepgan generate"):
                words = shlex.split(line)
                commands.append(words[words.index("generate") :])
    job_words = shlex.split(_job()["spec"]["template"]["spec"]["containers"][0]["args"][0])
    # The pod's index, as Kubernetes substitutes it in the shell.
    job_words = [word.replace("$JOB_COMPLETION_INDEX", "3") for word in job_words]
    commands.append(job_words[job_words.index("generate") :])
    return commands


def test_the_indexed_job_is_valid_and_its_world_size_is_its_completions() -> None:
    job = _job()
    kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)
    assert job["spec"]["completionMode"] == "Indexed"
    words = shlex.split(job["spec"]["template"]["spec"]["containers"][0]["args"][0])
    assert int(words[words.index("--world-size") + 1]) == job["spec"]["completions"]
    assert words[words.index("--rank") + 1] == "$JOB_COMPLETION_INDEX"


@pytest.mark.parametrize("argv", _generate_lines(), ids=lambda argv: " ".join(argv[:4]))
def test_every_generate_line_parses(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.command == "generate" and args.seed is not None
