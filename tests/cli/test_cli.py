"""The ``hepgan`` entry point: help, version, and how user errors are reported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hepgan.cli import build_parser, main
from hepgan.commands import output_format, parse_condition_flag
from hepgan.errors import ConfigError


def test_help_lists_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "COMMAND" in capsys.readouterr().out


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hepgan.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.startswith("hepgan ")


def test_every_subcommand_has_a_runner() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, subparser in subparsers.choices.items():
        assert callable(subparser.get_default("run")), name


@pytest.mark.parametrize(
    "argv",
    [
        ["--debug", "simulate", "dimuon", "-n", "0", "-o", "x.root"],
        ["simulate", "dimuon", "-n", "0", "-o", "x.root", "--debug"],
    ],
)
def test_debug_anywhere_is_kept(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).debug is True


def test_user_error_is_one_line_and_exit_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "validate",
            "--reference",
            str(tmp_path / "missing.root"),
            "--candidate",
            str(tmp_path / "missing.root"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "missing.root" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("incident_energy=10000", ("incident_energy", 10000.0, 10000.0)),
        ("incident_energy=1000:50000", ("incident_energy", 1000.0, 50000.0)),
        ("x=-1:1", ("x", -1.0, 1.0)),
    ],
)
def test_condition_flag_parses(text: str, expected: tuple[str, float, float]) -> None:
    assert parse_condition_flag(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("incident_energy", "expected NAME=VALUE or NAME=LO:HI"),
        ("=5", "expected NAME=VALUE or NAME=LO:HI"),
        ("e=1:2:3", "expected NAME=VALUE or NAME=LO:HI"),
        ("e=abc", "expected NAME=VALUE or NAME=LO:HI"),
        ("e=5:1", "LO <= HI"),
        ("e=nan", "finite"),
    ],
)
def test_condition_flag_errors_name_the_flag(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        parse_condition_flag(text)
    assert str(error.value).startswith(f"--condition {text!r}")


def test_generate_and_simulate_refuse_an_unknown_output_suffix_naming_the_flag(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.csv"
    expected = f"-o/--output: {output} must end in one of .root, .h5, .hdf5"
    generate = ["generate", "--model", str(tmp_path), "-n", "5", "-o", str(output)]
    for arguments in (generate, ["simulate", "showers", "-n", "5", "-o", str(output)]):
        assert main(arguments) == 2
        assert expected in capsys.readouterr().err
    assert output_format(tmp_path / "out.H5") == "hdf5"
    assert list(tmp_path.iterdir()) == []
