"""Settings: defaults, then the TOML file, then flags; errors name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepgan.errors import ConfigError
from hepgan.models.transforms import EventTransformSettings, ShowerTransformSettings
from hepgan.training.config import DEPRECATED_FLAT_KEYS, TrainConfig, build_config, read_toml


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


def test_shower_and_events_tables_are_read_and_merged(tmp_path: Path) -> None:
    values = _toml(
        tmp_path,
        'data = ["a.root"]\nvoxels = "v"\nout = "m"\n'
        "[shower]\ngap_fraction = 1\nlayer_shares = false\n"
        '[events]\npair_variables = "lab"\n[network]\ntwo_stage = false\n',
    )
    config = build_config(values, {"shower": {"dequantise": True, "hit_mask": False}})
    assert config.shower == ShowerTransformSettings(
        gap_fraction=1.0, layer_shares=False, dequantise=True, hit_mask=False
    )
    assert isinstance(config.shower.gap_fraction, float)  # the int of the TOML file
    assert config.events == EventTransformSettings(pair_variables="lab")
    config.validate()
    # The stored form (options.json, the card) reads back as the same settings.
    assert build_config(config.to_dict()) == config


def test_the_old_flat_names_still_work_with_a_warning(tmp_path: Path) -> None:
    values = _toml(
        tmp_path,
        'data = ["a.root"]\nvoxels = "v"\nout = "m"\nshower_layer_shares = false\n'
        'shower_gap_fraction = 0.5\nevent_pair_variables = "lab"\n[shower]\ndequantise = true\n'
        "hit_mask = false\n[network]\ntwo_stage = false\n",
    )
    with pytest.warns(FutureWarning) as warned:
        config = build_config(values, {"shower_random_symmetry": False})
    assert sorted(str(w.message).split()[1] for w in warned) == [
        "event_pair_variables",
        "shower_gap_fraction",
        "shower_layer_shares",
        "shower_random_symmetry",
    ]
    assert "write layer_shares = ... in the [shower] table" in str(warned[0].message)
    assert config.shower == ShowerTransformSettings(
        layer_shares=False, gap_fraction=0.5, dequantise=True, random_symmetry=False, hit_mask=False
    )
    assert config.events.pair_variables == "lab"
    # Every old name lands on the field of the same name in its table.
    for old, (table, name) in DEPRECATED_FLAT_KEYS.items():
        default = getattr(getattr(TrainConfig(), table), name)
        changed = "lab" if isinstance(default, str) else not default
        if isinstance(default, float):
            changed = default / 2 if default else 0.5
        with pytest.warns(FutureWarning, match=old):
            assert getattr(getattr(build_config({old: changed}), table), name) == changed
    with pytest.warns(FutureWarning), pytest.raises(ConfigError, match="give it once"):
        build_config({"shower_gap_fraction": 1.0, "shower": {"gap_fraction": 2.0}})


def test_settings_in_tables_are_type_checked_by_name() -> None:
    with pytest.raises(ConfigError, match=r"setting shower.gap_fraction must be float, got '10'"):
        build_config({"shower": {"gap_fraction": "10"}})
    with pytest.raises(ConfigError, match="setting events.acceptance must be bool"):
        build_config({"events": {"acceptance": 1}})
    with pytest.raises(ConfigError, match="setting network.latent_dim must be int"):
        build_config({"network": {"latent_dim": "8"}})
    with pytest.raises(ConfigError, match=r"\[shower\] accepts only .*gap_fraction"):
        build_config({"shower": {"gap": 1.0}})
    with pytest.raises(ConfigError, match=r"\[events\] accepts only"):
        build_config({"events": "lab"})


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
    with pytest.raises(ConfigError, match="shower.gap_fraction must be >= 0"):
        build_config({**shower, "shower": {"gap_fraction": -1.0}}).validate()
    with pytest.raises(ConfigError, match="shower.empty_share_fraction must be in"):
        build_config({**shower, "shower": {"empty_share_fraction": 1.5}}).validate()
    with pytest.raises(ConfigError, match="only shower.random_symmetry restores"):
        build_config(
            {**shower, "symmetry_augmentation": True, "shower": {"random_symmetry": False}}
        ).validate()
    one_network = {"network": {"two_stage": False}}
    build_config({**shower, **one_network, "critic_observables": True}).validate()  # layer shares
    with pytest.raises(ConfigError, match="selection_metric must be one of ks, separation_power"):
        build_config({**shower, "selection_metric": "auc"}).validate()
    with pytest.raises(ConfigError, match=r"shower.log_offset_quantile must be in \(0, 1\)"):
        build_config({**shower, "shower": {"log_offset_quantile": 0.0}}).validate()
    events = {"data": ["a"], "features": ["E1", "px1", "py1", "pz1"], "out": "m"}
    build_config({**events, "critic_observables": True}).validate()  # no layer shares for events
    with pytest.raises(ConfigError, match="events.pair_variables must be one of decay, lab"):
        build_config({**events, "events": {"pair_variables": "rest"}}).validate()
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


def test_two_stage_needs_layer_shares_and_the_plain_critic() -> None:
    """network.two_stage (the default) is refused, naming what to change, with flat shares or
    a critic that has no first-stage branch; event models ignore it."""
    showers = {"data": ["a.root"], "voxels": "v", "out": "m"}
    assert build_config(showers).network.two_stage
    build_config(showers).validate()
    for changes, match in (
        ({"shower": {"layer_shares": False}}, "layer_shares"),
        ({"minibatch_std_group": 4}, "minibatch_std_group"),
        ({"critic_observables": True, "shower": {"hit_mask": False}}, "critic_observables"),
    ):
        with pytest.raises(ConfigError, match="network.two_stage") as refused:
            build_config({**showers, **changes}).validate()
        assert match in str(refused.value)
        build_config({**showers, **changes, "network": {"two_stage": False}}).validate()
    build_config({"data": ["a.root"], "features": ["E1"], "out": "m"}).validate()
