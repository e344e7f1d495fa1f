"""Symmetry augmentation keeps the showers' observables; the averaged weights are what is saved;
dequantised empty voxels come back empty; the checkpoint can be chosen by separation power."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from hepgan.models.artefact import load_artefact
from hepgan.models.geometry import get_geometry
from hepgan.models.transforms import (
    ShowerTransformSettings,
    dequantise_empty_voxels,
    fit_shower_transform,
    readout_threshold,
)
from hepgan.models.transforms.symmetry import dihedral_permutations
from hepgan.simulators.showers import simulate_showers
from hepgan.training.checkpoint import load_checkpoint
from hepgan.training.config import NetworkSettings
from hepgan.training.distributed import Distributed
from hepgan.training.ema import GeneratorAverage
from hepgan.training.loop import run_training
from hepgan.training.symmetry import (
    RandomSymmetry,
    symmetrise_shower_transform,
)
from hepgan.training.trainer import Trainer
from hepgan.validation.report.observables import shower_observables
from tests.support.tiny import tiny_config, toy_training_data

GEOMETRY = get_geometry("small")
# Each voxel's share of the whole shower, without the random symmetry at generation
WHOLE_SHOWER = ShowerTransformSettings(layer_shares=False, random_symmetry=False, hit_mask=False)


def _simulated_showers(n_showers: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(incident energies (N,), voxels (N, V)) MeV of the small geometry, 1-100 GeV."""
    return simulate_showers(
        n_showers,
        geometry=GEOMETRY,
        energy_min_mev=1e3,
        energy_max_mev=1e5,
        rng=np.random.default_rng(seed),
    )


def test_dihedral_group_of_the_small_geometry() -> None:
    permutations = dihedral_permutations(GEOMETRY.shape)
    assert permutations.shape == (8, GEOMETRY.n_voxels)  # 4 rotations x 2 reflections
    assert all(sorted(p) == list(range(GEOMETRY.n_voxels)) for p in permutations)
    # Closed under composition: a group.
    as_set = {tuple(p) for p in permutations}
    assert all(tuple(p[q]) in as_set for p in permutations for q in permutations)


def test_augmentation_keeps_the_observables_distributions_and_commutes_with_the_transform() -> None:
    incident, voxels = _simulated_showers(4000, seed=2)
    permutations = dihedral_permutations(GEOMETRY.shape, n_extra_columns=1)
    transform = fit_shower_transform(voxels, incident, WHOLE_SHOWER)
    symmetrise_shower_transform(transform, permutations)
    transformed = torch.as_tensor(transform.forward(voxels, incident[:, None]))
    augmented = RandomSymmetry(permutations, torch.device("cpu"))(
        transformed, torch.Generator().manual_seed(3)
    )
    assert not torch.equal(augmented, transformed)
    # Augmenting transformed showers = transforming augmented showers (the transform commutes).
    physical = transform.inverse(augmented.numpy(), incident[:, None])
    np.testing.assert_allclose(
        transform.forward(physical, incident[:, None]), augmented.numpy(), atol=2e-3
    )
    before = shower_observables(
        transform.inverse(transformed.numpy(), incident[:, None]), incident, GEOMETRY
    )
    after = shower_observables(physical, incident, GEOMETRY)
    for name in before:
        if name.startswith(("e_", "longitudinal", "n_nonzero", "n_hits")):
            # Invariant per shower: energies, depth, sparsity.
            np.testing.assert_allclose(
                after[name], before[name], rtol=1e-4, atol=1e-3, err_msg=name
            )
        else:
            # Centres and widths in x and y move per shower (a quarter turn swaps x and y), but
            # their distributions are those of a symmetric sample: the same.
            assert stats.ks_2samp(after[name], before[name]).pvalue > 1e-3, name
    for layer in range(GEOMETRY.n_layers):
        radial = [
            o[f"width_x_layer_{layer:02d}"] ** 2 + o[f"width_y_layer_{layer:02d}"] ** 2
            for o in (after, before)
        ]
        np.testing.assert_allclose(radial[0], radial[1], rtol=1e-3, atol=1e-3)


def test_average_update_and_swap() -> None:
    module = torch.nn.Linear(2, 1)
    average = GeneratorAverage(module, decay=0.5)
    start = module.weight.detach().clone()
    with torch.no_grad():
        module.weight.add_(1.0)
    for _ in range(20):
        average.update(module)
    assert torch.allclose(average.average["weight"], start + 1.0, atol=1e-4)
    with torch.no_grad():
        module.weight.add_(1.0)
    with average.swapped_in(module):
        assert torch.allclose(module.weight, start + 1.0, atol=1e-4)
    assert torch.allclose(module.weight, start + 2.0)


def test_the_critic_sees_real_and_generated_showers_moved_by_the_group(tmp_path: Path) -> None:
    """With symmetry_augmentation each generated shower reaches the critic as the generator's
    output under one element of the group (not always the identity), as the real ones do."""
    data = toy_training_data("showers", n_events=1500, seed=8)
    config = tiny_config(
        tmp_path,
        data,
        seed=3,
        symmetry_augmentation=True,
        shower=ShowerTransformSettings(hit_mask=False),  # the augmentation keeps no indicators
    )
    trainer = Trainer(
        config, data, data.split(config), device=torch.device("cpu"), world=Distributed()
    )
    made: list[torch.Tensor] = []
    seen: list[torch.Tensor] = []
    trainer.generator.register_forward_hook(lambda _m, _i, out: made.append(out.detach()))
    trainer.critic.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0].detach()))
    trainer.critic_update()
    # one critic call scores real, generated and the penalty's interpolates together
    generated = made[0]
    critic_input = seen[0][len(generated) : 2 * len(generated)]
    permutations = torch.as_tensor(trainer.symmetry.permutations)  # (G, F)
    candidates = generated[:, permutations]  # (B, G, F): each row under each element
    matches = (candidates == critic_input[:, None, :]).all(dim=2)  # (B, G)
    assert bool(matches.any(dim=1).all())
    assert not torch.equal(critic_input, generated)


def _short_shower_run(folder: Path, *, seed: int, **settings):
    """(toy shower data, the result of 8 training steps on it, validated at 4 and 8)."""
    data = toy_training_data("showers", n_events=1500, seed=seed)
    config = tiny_config(folder / "model", data, steps=8, validate_every=4, **settings)
    return data, run_training(config, data)


@pytest.mark.slow
def test_the_averaged_weights_are_what_gets_saved(tmp_path: Path) -> None:
    data, result = _short_shower_run(
        tmp_path,
        seed=5,
        ema_decay=0.9,
        critic_observables=True,
        minibatch_std_group=4,
        symmetry_augmentation=True,
        shower=ShowerTransformSettings(hit_mask=False),
        # the physics critic has no first-stage branch: one network
        network=NetworkSettings(
            latent_dim=8, generator_hidden=[32, 32], critic_hidden=[32, 32], two_stage=False
        ),
    )
    last = load_checkpoint(tmp_path / "model" / "run" / "last.safetensors")
    best = load_checkpoint(tmp_path / "model" / "run" / "best.safetensors")
    average = last["generator_average"]["average"]
    assert last["generator_average"]["updates"] == 8
    raw = last["generator"]
    assert any(not torch.equal(average[name], raw[name]) for name in raw)
    if result.best_step == 8:
        for name in average:
            assert torch.equal(best["generator"][name], average[name]), name
    artefact = load_artefact(result.artefact)
    for name, value in artefact.generator.state_dict().items():
        assert torch.equal(value, best["generator"][name]), name


def test_dequantised_empty_voxels_stay_below_the_threshold_and_come_back_empty() -> None:
    incident, voxels = _simulated_showers(3000, seed=4)
    threshold = readout_threshold(voxels)
    assert 0 < threshold < voxels[voxels > 0].min()
    filled = dequantise_empty_voxels(voxels, threshold, np.random.default_rng(5))
    empty = voxels == 0
    assert empty.mean() > 0.1  # the deep layers of the small geometry are sparse
    assert np.all((filled[empty] > 0) & (filled[empty] < threshold))
    np.testing.assert_array_equal(filled[~empty], voxels[~empty])
    # Uniform below the threshold: no point mass left for the generator to hit.
    assert stats.kstest(filled[empty] / threshold, "uniform").pvalue > 1e-3
    transform = fit_shower_transform(filled, incident, WHOLE_SHOWER, threshold=threshold)
    transformed = transform.forward(filled, incident[:, None])
    assert np.unique(transformed[:, :-1][empty]).size > 0.99 * empty.sum()
    back = transform.inverse(transformed, incident[:, None])
    # The readout threshold zeroes every dequantised voxel and keeps every real deposit.
    np.testing.assert_array_equal(back == 0, empty)
    # (float32 y carries a share x to about 1e-7 (x + eps + gap) / x of itself: 1e-5 for the
    # smallest deposits, just above the threshold)
    np.testing.assert_allclose(back[~empty], voxels[~empty], rtol=1e-5)


@pytest.mark.slow
def test_training_on_dequantised_layer_shares_picks_by_separation_power(tmp_path: Path) -> None:
    data, result = _short_shower_run(
        tmp_path,
        seed=6,
        shower=ShowerTransformSettings(dequantise=True, layer_shares=True, hit_mask=False),
        symmetry_augmentation=True,
        selection_metric="separation_power",
    )
    validations = [r for r in result.history if r.get("event") == "validation"]
    assert [r["step"] for r in validations] == [4, 8]
    for record in validations:
        assert record["metric"] == pytest.approx(np.mean(list(record["separation_power"].values())))
        assert record["mean_ks"] == pytest.approx(np.mean(list(record["ks"].values())))
    assert result.best_metric == min(r["metric"] for r in validations)
    artefact = load_artefact(result.artefact)
    assert artefact.card.training.selection_metric.startswith("mean separation power")
    thresholds = [
        step["threshold"]
        for step in artefact.card.transforms["features"]["steps"]
        if step["kind"] == "zero_below"
    ]
    # The readout threshold of the training split's raw deposits, not of the filled voxels.
    assert len(thresholds) == 1
    assert np.isclose(data.features, thresholds[0] / (1 - 1e-3), rtol=1e-9, atol=0).any()
    geometry = data.geometry
    assert artefact.generator.config.n_features == geometry.n_voxels + geometry.n_layers + 1
    assert not artefact.generator.config.hit_mask_columns  # dequantised: no hit mask
    showers = artefact.generate(200, conditions=np.full((200, 1), 5e3), seed=1)
    assert showers.shape == (200, geometry.n_voxels) and np.all(showers >= 0)


def test_learning_rates_fall_linearly_over_the_step_budget(tmp_path: Path) -> None:
    data = toy_training_data("events", n_events=800, seed=7)
    config = tiny_config(tmp_path / "model", data, steps=20, learning_rate_final_fraction=0.1)
    seen: dict[int, tuple[float, float]] = {}

    def record(trainer) -> None:
        seen[trainer.step] = (
            trainer.optimizer_generator.param_groups[0]["lr"],
            trainer.optimizer_critic.param_groups[0]["lr"],
        )

    run_training(config, data, callbacks=[record])
    base_generator, base_critic = config.learning_rates
    # Set every 10 steps from the budget used before the step: 0 then 10 / 20.
    for step, used in ((1, 0.0), (10, 0.0), (11, 0.5), (20, 0.5)):
        factor = 1.0 - 0.9 * used
        assert seen[step] == pytest.approx((base_generator * factor, base_critic * factor))
