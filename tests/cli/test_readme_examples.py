"""The README's ``hepgan simulate``, ``generate`` and ``validate`` examples run as written
(issue 27, part 4), in one folder (simulate, generate, then validate): the models they name
(``models/showers``, ``models/dimuon``) are small artefacts trained there first, in place of
the README's 10-minute trainings. The torchrun line is the sharded path of
tests/cli/test_generate_shards.py.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import uproot

from hepgan.cli import main
from tests.conftest import REPO_ROOT
from tests.support.dimuon import make_dimuon_artefact
from tests.support.tiny import make_tiny_artefact

pytestmark = pytest.mark.slow


def readme_commands(*subcommands: str) -> list[str]:
    """The README's bash lines running ``hepgan SUBCOMMAND``, continuation lines joined and
    trailing comments dropped, in README order."""
    text = (REPO_ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            words = line.split()
            if len(words) > 1 and words[0] == "hepgan" and words[1] in subcommands:
                commands.append(" ".join(words))
    return commands


def test_readme_names_the_examples_this_file_runs() -> None:
    generate = readme_commands("generate")
    validate = readme_commands("validate")
    assert [command.split("--model ")[1].split()[0] for command in generate] == [
        "models/showers",
        "models/dimuon",
    ]
    assert len(validate) == 2 and "--classifier" in validate[1] and ",M " in validate[1]
    assert len(readme_commands("simulate")) == 2


def test_readme_generate_and_validate_examples_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in readme_commands("simulate"):
        assert main(shlex.split(command)[1:]) == 0, command
    make_tiny_artefact(tmp_path / "models" / "showers", kind="showers")
    make_dimuon_artefact(tmp_path / "models" / "dimuon")
    capsys.readouterr()
    # The Validation section comes first in the README; it compares what generate writes.
    for command in readme_commands("generate") + readme_commands("validate"):
        assert main(shlex.split(command)[1:]) == 0, command
    said = capsys.readouterr()
    # Progress of each long step, on stderr (no terminal here: plain lines)
    assert "hepgan generate: 100000/100000 events (100%)" in said.err
    plots = sorted(Path("plots").glob("*.png"))
    assert plots and f"hepgan validate --plots: {len(plots)} plots" in said.err
    assert re.search(r"hepgan validate --classifier: \d+ epochs, .* validation BCE \d", said.err)
    assert "classifier AUC" in said.out
    assert json.loads(Path("report.json").read_text())["summary"]["n_candidate"] > 0
    with uproot.open("dimuon.root") as simulated, uproot.open("dimuon_gan.root") as generated:
        inputs = set(simulated["events"].keys())
        outputs = set(generated["events"].keys())
    # Every branch but the ones neither generated nor derivable from the four-vectors
    assert outputs == inputs - {"Run", "Event", "Type"}
