"""hepgan.progress off a terminal (pytest's stderr is none): plain lines, the last always."""

from __future__ import annotations

import pytest

from hepgan import progress as progress_module
from hepgan.progress import Progress


def test_lines_at_first_update_interval_and_total(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "LINE_EVERY_SECONDS", 3600.0)
    with Progress("generate", total=300, unit="events") as progress:
        for _ in range(3):
            progress.update(100)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(", ")[0] for line in lines] == [
        "hepgan generate: 100/300 events (33%)",  # the first
        "hepgan generate: 300/300 events (100%)",  # the total, within the interval
    ]
    assert all(line.endswith(" s") for line in lines)


def test_unknown_total_ends_with_the_last_count_and_detail(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "LINE_EVERY_SECONDS", 3600.0)
    with Progress("validate --classifier", total=None, unit="epochs") as progress:
        for epoch in range(1, 5):
            progress.update(1, f"validation BCE {1 / epoch:.3f}")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("hepgan validate --classifier: 1 epochs, ")
    assert lines[0].endswith(", validation BCE 1.000")
    assert lines[1].startswith("hepgan validate --classifier: 4 epochs, ")
    assert lines[1].endswith(", validation BCE 0.250")


def test_every_update_is_said_with_no_interval(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "LINE_EVERY_SECONDS", 0.0)
    with Progress("validate --plots", total=None, unit="plots") as progress:
        for _ in range(3):
            progress.update(1)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(", ")[0] for line in lines] == [
        f"hepgan validate --plots: {n} plots" for n in (1, 2, 3)
    ]


def test_a_failed_command_says_no_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), Progress("generate", total=10, unit="events") as progress:
        progress.update(2)
        progress.update(3)
        raise RuntimeError
    assert len(capsys.readouterr().err.splitlines()) == 1
