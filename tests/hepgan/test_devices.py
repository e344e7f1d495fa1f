"""``--device``: checked before use, with an error naming the flag, not torch's traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hepgan.cli import main
from hepgan.devices import resolve_device
from hepgan.errors import ConfigError

no_gpu = pytest.mark.skipif(
    torch.cuda.is_available(), reason="a CUDA device is present: --device cuda is no error here"
)


def test_cpu_and_auto_without_a_gpu() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize("name", ["gpu", "tpu", "cuda:x", ""])
def test_unknown_devices_name_the_flag(name: str) -> None:
    with pytest.raises(ConfigError, match="--device must be auto, cpu, cuda or cuda:N"):
        resolve_device(name)


def test_a_gpu_beyond_the_machine_is_refused() -> None:
    beyond = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(ConfigError, match=f"--device cuda:{beyond}: "):
        resolve_device(f"cuda:{beyond}")


@no_gpu
@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_cuda_without_a_gpu_is_a_config_error(name: str) -> None:
    with pytest.raises(ConfigError, match=f"--device {name}: no CUDA device is available"):
        resolve_device(name)


@no_gpu
def test_train_and_generate_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.tiny import make_tiny_artefact

    model = make_tiny_artefact(tmp_path / "m", steps=2)
    generate = ["generate", "--model", str(model), "-n", "5", "-o", str(tmp_path / "g.root")]
    train = ["train", "--data", "x.root", "--features", "E1", "--out", str(tmp_path / "t")]
    capsys.readouterr()
    for command in (generate, train):
        assert main([*command, "--device", "cuda"]) == 2
        error = f"hepgan {command[0]}: error: --device cuda: no CUDA device is available\n"
        assert capsys.readouterr().err == error
    assert not (tmp_path / "g.root").exists() and not (tmp_path / "t").exists()
