"""Reading the Dockerfile the way the deployment checks need it (no Docker engine required)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RuntimeStage:
    """What the last stage of the Dockerfile declares (the image that is shipped)."""

    base_image: str
    user: str
    exposed_ports: tuple[int, ...]
    env: dict[str, str]
    healthcheck: str
    entrypoint: list[str]
    cmd: list[str]
    volumes: list[str]


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    pairs = []
    for line in logical.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def _substitute_args(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m.group(1) or m.group(2)], value)


def parse_runtime_stage(text: str) -> RuntimeStage:
    """The instructions of the final ``FROM`` stage, build-args resolved to their defaults."""
    instructions = dockerfile_instructions(text)
    args = dict(arguments.split("=", 1) for keyword, arguments in instructions if keyword == "ARG")
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    stage = instructions[last_from:]
    fields: dict[str, list[str]] = {}
    for keyword, arguments in stage:
        fields.setdefault(keyword, []).append(arguments)
    env: dict[str, str] = {}
    for arguments in fields.get("ENV", []):
        env.update(token.split("=", 1) for token in shlex.split(arguments))
    return RuntimeStage(
        base_image=_substitute_args(fields["FROM"][0].split()[0], args),
        user=fields["USER"][-1],
        exposed_ports=tuple(int(port.split("/")[0]) for port in " ".join(fields["EXPOSE"]).split()),
        env=env,
        healthcheck=fields["HEALTHCHECK"][-1],
        entrypoint=json.loads(fields["ENTRYPOINT"][-1]),
        cmd=json.loads(fields["CMD"][-1]),
        volumes=[v for arguments in fields.get("VOLUME", []) for v in json.loads(arguments)],
    )
