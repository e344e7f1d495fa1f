"""The GPU paths of the training step that PyTorch also runs on the CPU: bf16 autocast, compile.

A few real training steps on the toy events, watched with forward hooks on the
networks: the dtype each layer returns (autocast), and whether torch.compile
was tracing the call (``torch.compiler.is_compiling``).
"""

from __future__ import annotations

import shutil

import pytest
import torch

from hepgan.errors import ConfigError
from hepgan.training.distributed import Distributed
from hepgan.training.trainer import Trainer
from tests.support.tiny import tiny_config, toy_training_data

STEPS = 3


@pytest.fixture(scope="module")
def data():
    return toy_training_data("events", n_events=1500, seed=4)


def _trainer(data, tmp_path, **settings) -> Trainer:
    config = tiny_config(tmp_path, data, seed=3, **settings)
    return Trainer(
        config, data, data.split(config), device=torch.device("cpu"), world=Distributed()
    )


def _output_dtypes(module: torch.nn.Module) -> list[torch.dtype]:
    """Record the dtype of every output of ``module`` from now on."""
    seen: list[torch.dtype] = []
    module.register_forward_hook(lambda _module, _inputs, output: seen.append(output.dtype))
    return seen


def _train(trainer: Trainer) -> dict[str, torch.Tensor]:
    for _ in range(STEPS):
        trainer.train_step()
    return {name: value.clone() for name, value in trainer.generator.state_dict().items()}


def test_bf16_autocast_runs_both_networks_in_bfloat16_on_the_cpu(data, tmp_path) -> None:
    trainer = _trainer(data, tmp_path / "bf16", precision="bf16")
    assert trainer.precision == torch.bfloat16
    generator_dtypes = _output_dtypes(trainer.generator)
    critic_dtypes = _output_dtypes(trainer.critic)
    weights = _train(trainer)
    # 5 critic updates (one generator and two critic calls each, real and fake; the
    # gradient penalty adds one) and one generator update per step
    assert set(generator_dtypes) == {torch.bfloat16} and len(generator_dtypes) == 6 * STEPS
    assert set(critic_dtypes) == {torch.bfloat16}
    reference = _train(_trainer(data, tmp_path / "fp32", precision="off"))
    for name, value in weights.items():
        assert torch.isfinite(value).all(), name
    # bf16 keeps 8 bits of mantissa: the same run, rounded differently
    assert any(not torch.equal(weights[name], reference[name]) for name in weights)


def test_auto_precision_is_float32_on_the_cpu_and_fp16_is_refused(data, tmp_path) -> None:
    trainer = _trainer(data, tmp_path / "auto")
    assert trainer.config.precision == "auto" and trainer.precision is None
    dtypes = _output_dtypes(trainer.generator)
    trainer.train_step()
    assert set(dtypes) == {torch.float32}
    with pytest.raises(ConfigError, match="fp16 needs CUDA"):
        _trainer(data, tmp_path / "fp16", precision="fp16")


@pytest.mark.skipif(
    shutil.which("g++") is None,
    reason="torch.compile on the CPU builds C++ kernels and needs g++ (scripts/install.sh "
    "installs it)",
)
def test_compiled_generator_trains_like_the_eager_one(data, tmp_path) -> None:
    runs = {}
    for name, compiled in (("eager", False), ("compiled", True)):
        trainer = _trainer(data, tmp_path / name, compile=compiled)
        traced: list[bool] = []
        trainer.generator.register_forward_pre_hook(
            lambda _module, _inputs, traced=traced: traced.append(torch.compiler.is_compiling())
        )
        runs[name] = _train(trainer)
        assert any(traced) is compiled, name
    # Inductor may fuse and reorder float32 arithmetic, so equality is not promised; here
    # the two runs agreed to the last bit (torch 2.13, x86-64), 1e-5 leaves room for that.
    for name, eager in runs["eager"].items():
        torch.testing.assert_close(runs["compiled"][name], eager, rtol=1e-5, atol=1e-6)
