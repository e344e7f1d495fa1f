"""A transform setting is one field of its settings dataclass: from a TOML table, it reaches
the recipe the trainer fits, and the stored configuration, with nothing else to edit.

The tests iterate over the fields, so a new field with a default is covered as it is added
(a field of a new type needs a changed value in :func:`_changed_value`)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hepgan.models.artefact import load_artefact
from hepgan.models.transforms import (
    EventTransformSettings,
    ShowerTransformSettings,
    fit_transforms,
)
from hepgan.training.config import DEPRECATED_FLAT_KEYS, build_config, read_toml
from hepgan.training.distributed import Distributed
from hepgan.training.trainer import Trainer
from tests.support.cards import read_card, write_resealed_card
from tests.support.dimuon import DIMUON_FEATURES, dimuon_training_data
from tests.support.tiny import make_tiny_artefact, toy_training_data

# one network: the fields changed here include the layer shares that two stages need
SMALL_NETWORK = {"latent_dim": 8, "generator_hidden": [8], "critic_hidden": [8], "two_stage": False}


def _changed_value(settings_field: dataclasses.Field) -> Any:
    """A valid value other than the field's default: a bool flipped, a float halved (0.5 for
    0), a string's other choice (``metadata["choices"]``)."""
    default = settings_field.default
    if isinstance(default, bool):
        return not default
    if isinstance(default, float):
        return default / 2 if default else 0.5
    if isinstance(default, str):
        return next(c for c in settings_field.metadata["choices"] if c != default)
    raise AssertionError(f"teach _changed_value a value for {settings_field.name}")


# settings that another must accompany when changed: the dequantised showers have no empty
# voxels for the (default) hit mask to decide
COMPANIONS = {("dequantise", True): {"hit_mask": False}}


def _toml_value(value: Any) -> str:
    return json.dumps(value)  # true / false, numbers and strings are the same in TOML


def _fitted_features(tmp_path: Path, data, table: str, lines: str) -> tuple[Any, dict, Trainer]:
    """(the config read from a TOML file with ``lines`` in table ``[table]``, its stored
    form, the trainer built from it)."""
    path = tmp_path / "run.toml"
    path.write_text(f"[{table}]\n{lines}\n")
    values = {
        "data": ["(toy data)"],
        "out": str(tmp_path / "model"),
        "network": SMALL_NETWORK,
        "device": "cpu",
        **({"voxels": "voxels"} if data.kind == "showers" else {"features": DIMUON_FEATURES}),
    }
    config = build_config(read_toml(path), values).validate()
    trainer = Trainer(
        config, data, data.split(config), device=torch.device("cpu"), world=Distributed()
    )
    return config, json.loads(json.dumps(config.to_dict())), trainer


@pytest.mark.parametrize(
    ("table", "settings_class"),
    [("shower", ShowerTransformSettings), ("events", EventTransformSettings)],
)
def test_every_transform_setting_reaches_the_recipe_from_toml(
    tmp_path: Path, table: str, settings_class: type
) -> None:
    if table == "shower":
        data = toy_training_data("showers", n_events=1200, seed=8)
    else:
        data = dimuon_training_data(1200, seed=8)
    _, _, default = _fitted_features(tmp_path, data, table, "")
    default_transform = default.feature_transform.to_dict()
    for settings_field in dataclasses.fields(settings_class):
        value = _changed_value(settings_field)
        changes = {settings_field.name: value, **COMPANIONS.get((settings_field.name, value), {})}
        line = "\n".join(f"{name} = {_toml_value(v)}" for name, v in changes.items())
        config, stored, trainer = _fitted_features(tmp_path, data, table, line)
        settings = dataclasses.replace(settings_class(), **changes)
        assert getattr(config, table) == settings, line
        assert stored[table][settings_field.name] == value, line  # options.json and the card
        fitted = trainer.feature_transform.to_dict()
        assert fitted != default_transform, f"{line} changed nothing the trainer fitted"
        expected = fit_transforms(
            data.kind,
            data.features[trainer.split.train],
            data.conditions[trainer.split.train],
            data.feature_names,
            **{"shower" if table == "shower" else "events": settings},
            shower_shape=data.geometry.shape if data.geometry is not None else None,
            seed=config.seed,
        )
        assert fitted == expected.features.to_dict(), line


def test_an_artefact_whose_card_has_the_old_flat_settings_loads_and_generates_the_same(
    tmp_path: Path,
) -> None:
    """Cards written before the [shower] and [events] tables store the transform settings as
    flat keys (shower_gap_fraction, ...): the artefact still loads and generates the same
    events, and its stored configuration reads back (with a warning) as the same settings."""
    folder = make_tiny_artefact(tmp_path / "new", kind="showers", n_events=800, steps=4)
    old_folder = tmp_path / "old"
    shutil.copytree(folder, old_folder)
    card = read_card(old_folder)
    config = card["training"]["config"]
    for old, (table, name) in DEPRECATED_FLAT_KEYS.items():
        config[old] = config[table][name]
    for table in {table for table, _ in DEPRECATED_FLAT_KEYS.values()}:
        del config[table]
    write_resealed_card(old_folder, card)
    new, old = load_artefact(folder), load_artefact(old_folder)
    assert "shower_gap_fraction" in old.card.training.config
    conditions = np.geomspace(1e3, 1e5, 50)[:, None]
    np.testing.assert_array_equal(
        old.generate(50, conditions=conditions, seed=3),
        new.generate(50, conditions=conditions, seed=3),
    )
    with pytest.warns(FutureWarning):
        read_back = build_config(old.card.training.config)
    assert read_back == build_config(new.card.training.config)
