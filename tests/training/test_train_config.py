"""Settings: defaults, then the TOML file, then flags; errors name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepgan.errors import ConfigError
from hepgan.models.transforms.recipes import (
    EMPTY_SHARE_FRACTION,
    GAP_FRACTION,
    LOG_OFFSET_QUANTILE,
)
from hepgan.training.config import build_config, read_toml


def _toml(tmp_path: Path, text: str) -> dict:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return read_toml(path)


def test_flags_override_the_file(tmp_path: Path) -> None:
    values = _toml(
        tmp_path,
        'data = ["a.root", "b.root"]\ntree = "events"\nfeatures = ["E1", "E2"]\n'
        'out = "m"\nseed = 3\nmax_minutes = 2\n[network]\nlatent_dim = 16\n',
    )
    config = build_config(values, {"seed": 7, "features": "E1,px1", "max_minutes": None})
    assert config.data == ["a.root", "b.root"]
    assert config.seed == 7  # flag wins
    assert config.features == ["E1", "px1"]  # comma list split
    assert config.max_minutes == 2.0  # int in TOML becomes the float the field declares
    assert config.network.latent_dim == 16
    assert config.network.generator_hidden == [256, 256, 256]  # default kept
    config.validate()
    assert config.run_folder == Path("m") / "run"


def test_the_shower_transform_defaults_are_the_recipes_ones() -> None:
    """The config cannot import the numpy recipes cheaply, so it repeats their defaults."""
    config = build_config({})
    assert config.shower_log_offset_quantile == LOG_OFFSET_QUANTILE
    assert config.shower_empty_share_fraction == EMPTY_SHARE_FRACTION
    assert config.shower_gap_fraction == GAP_FRACTION


def test_errors_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting.*learning_rate"):
        build_config({"learning_rate": 1e-3})
    with pytest.raises(ConfigError, match="setting seed must be int"):
        build_config({"seed": "1"})
    with pytest.raises(ConfigError, match=r"\[network\] accepts only"):
        build_config({"network": {"depth": 3}})
    with pytest.raises(ConfigError, match="--loss must be one of wgan-gp, bce"):
        build_config({"data": ["a"], "voxels": "v", "out": "m", "loss": "hinge"}).validate()
    with pytest.raises(ConfigError, match="exactly one of --features and --voxels"):
        build_config({"data": ["a"], "out": "m"}).validate()
    with pytest.raises(ConfigError, match="--max-minutes must be > 0"):
        build_config({"data": ["a"], "voxels": "v", "out": "m", "max_minutes": 0}).validate()
    shower = {"data": ["a"], "voxels": "v", "out": "m"}
    with pytest.raises(ConfigError, match="shower_gap_fraction must be >= 0"):
        build_config({**shower, "shower_gap_fraction": -1.0}).validate()
    with pytest.raises(ConfigError, match="shower_empty_share_fraction must be in"):
        build_config({**shower, "shower_empty_share_fraction": 1.5}).validate()
    with pytest.raises(ConfigError, match="only shower_random_symmetry restores"):
        build_config(
            {**shower, "symmetry_augmentation": True, "shower_random_symmetry": False}
        ).validate()
    build_config({**shower, "critic_observables": True}).validate()  # with layer shares too
    with pytest.raises(ConfigError, match="selection_metric must be one of ks, separation_power"):
        build_config({**shower, "selection_metric": "auc"}).validate()
    with pytest.raises(ConfigError, match=r"shower_log_offset_quantile must be in \(0, 1\)"):
        build_config({**shower, "shower_log_offset_quantile": 0.0}).validate()
    events = {"data": ["a"], "features": ["E1", "px1", "py1", "pz1"], "out": "m"}
    build_config({**events, "critic_observables": True}).validate()  # no layer shares for events
    with pytest.raises(ConfigError, match="event_pair_variables must be one of decay, lab"):
        build_config({**events, "event_pair_variables": "rest"}).validate()
    with pytest.raises(ConfigError, match=r"learning_rate_final_fraction must be in \(0, 1\]"):
        build_config({**shower, "learning_rate_final_fraction": 0.0}).validate()
    with pytest.raises(ConfigError, match="not valid TOML"):
        _toml(tmp_path, "data = [")
    with pytest.raises(ConfigError, match="--config: file .* not found"):
        read_toml(tmp_path / "absent.toml")


def test_learning_rates_default_by_kind_and_can_be_set() -> None:
    events = build_config({"data": ["a"], "features": ["E1"], "out": "m"})
    showers = build_config({"data": ["a"], "voxels": "voxels", "out": "m"})
    assert events.learning_rates == (1e-4, 1e-4)
    assert showers.learning_rates == (3e-4, 3e-4)
    chosen = build_config({"data": ["a"], "voxels": "v", "out": "m", "learning_rate_critic": 2e-4})
    assert chosen.learning_rates == (3e-4, 2e-4)
    with pytest.raises(ConfigError, match="learning_rate_generator must be a positive number"):
        build_config({**chosen.to_dict(), "learning_rate_generator": -1.0}).validate()
