"""The hit mask: lossless transform, exact decisions at generation, straight-through gradients
in training, and the same events through numpy, torch and ONNX."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from hepgan.models.networks import GanConfig, Generator
from hepgan.models.transforms import FeatureTransform, fit_shower_transform
from hepgan.models.transforms.hit_mask import HitIndicators, ZeroWhereEmpty, gated_columns
from hepgan.models.transforms.hit_mask_torch import HitIndicatorsInverse
from hepgan.models.transforms.settings import ShowerTransformSettings

LAYERS, PER_LAYER = 5, 4
SHAPE = (LAYERS, 2, 2)  # layers, angles, radii of the toy showers


def _showers(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Toy showers (N, 20) MeV with about 40 % empty voxels and some empty layers, and incident
    energies (N,) MeV."""
    rng = np.random.default_rng(seed)
    voxels = rng.gamma(0.5, 2.0, (n, LAYERS * PER_LAYER)) * (rng.random((n, 20)) > 0.4)
    voxels[: n // 10, 16:] = 0.0  # the last layer empty in a tenth of the showers
    return voxels, rng.uniform(50.0, 500.0, n)


def _fitted(voxels: np.ndarray, energy: np.ndarray) -> FeatureTransform:
    settings = ShowerTransformSettings(hit_mask=True, random_symmetry=False)
    transform = fit_shower_transform(voxels, energy, settings, shape=SHAPE)
    return FeatureTransform.from_dict(json.loads(json.dumps(transform.to_dict())))


def test_the_transform_carries_exact_indicators_and_inverts() -> None:
    """Width 2 (V + L) + 1; indicators are exactly [share > 0] for shares and layer fractions;
    empty columns read exactly 0 in the generator's space; the inverse gives the showers back,
    exactly as the transform without the mask does (float32 in between)."""
    voxels, energy = _showers(1, 400)
    transform = _fitted(voxels, energy)
    n_values = 20 + LAYERS + 1
    y = transform.forward(voxels, energy[:, None]).astype(np.float64)
    assert y.shape == (400, n_values + 20 + LAYERS)
    masked, indicators = gated_columns(transform.steps)
    assert masked == list(range(20 + LAYERS))
    assert indicators == list(range(n_values, n_values + 20 + LAYERS))
    layer_energy = voxels.reshape(400, LAYERS, PER_LAYER).sum(axis=2)
    expected_hits = np.column_stack([voxels > 0, layer_energy > 0]).astype(np.float64)
    np.testing.assert_array_equal(y[:, indicators], expected_hits)
    assert np.all(y[:, masked][expected_hits == 0] == 0.0)
    assert np.count_nonzero(y[:, masked][expected_hits == 1]) == expected_hits.sum()
    back = transform.inverse(y, energy[:, None])
    plain = fit_shower_transform(
        voxels, energy, ShowerTransformSettings(random_symmetry=False), shape=SHAPE
    )
    np.testing.assert_array_equal(
        back, plain.inverse(plain.forward(voxels, energy[:, None]), energy[:, None])
    )
    np.testing.assert_allclose(back, voxels, rtol=1e-3, atol=1e-3 * voxels.max())


def test_the_decision_alone_empties_a_voxel() -> None:
    """Whatever value the generator gives a column, indicator 0 makes the voxel exactly 0,
    and indicator 1 keeps the value's voxel."""
    voxels, energy = _showers(2, 200)
    transform = _fitted(voxels, energy)
    y = transform.forward(voxels, energy[:, None]).astype(np.float64)
    masked, indicators = gated_columns(transform.steps)
    hit = np.argwhere(y[:, indicators[3]] == 1)[:, 0]
    assert len(hit) > 10
    dropped = y.copy()
    dropped[hit, indicators[3]] = 0.0
    back = transform.inverse(dropped, energy[:, None])
    assert np.all(back[hit, 3] == 0.0)
    other = [j for j in range(20) if j != 3]
    assert np.all((back[hit][:, other] > 0) == (voxels[hit][:, other] > 0))


def test_the_torch_inverse_is_the_numpy_inverse() -> None:
    step = HitIndicators(columns=[0, 2, 3])
    rng = np.random.default_rng(3)
    values = np.column_stack([rng.normal(size=(50, 5)), rng.random((50, 3))])  # (N, 5 + 3)
    torch_inverse = HitIndicatorsInverse(step, 8)
    got = torch_inverse(torch.from_numpy(values), torch.zeros(50, 1)).numpy()
    np.testing.assert_array_equal(got, step.inverse(values, None))
    assert ZeroWhereEmpty(columns=[0], indicators=[5]).inverse(values, None) is not None


def test_the_generator_decides_exactly_and_its_gradients_flow() -> None:
    """Eval: indicators in {0, 1} and a masked value 0 where its indicator is 0, the others
    untouched. Training: the same forward values, and d/dt of sum(outputs) through the
    straight-through decision is sigmoid'(t) (1 + y_j) for logit t_j gating value y_j."""
    config = GanConfig(n_features=7, latent_dim=4, generator_hidden=[16], hit_mask_columns=[1, 2])
    generator = Generator(config)
    raw = torch.randn(64, 7, requires_grad=True)  # 5 values, 2 logits
    out_eval = generator.eval()._gate(raw)
    hits = out_eval[:, 5:]
    assert set(hits.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(hits, (raw[:, 5:] > 0).float())
    torch.testing.assert_close(out_eval[:, [1, 2]], raw[:, [1, 2]] * hits)
    torch.testing.assert_close(out_eval[:, [0, 3, 4]], raw[:, [0, 3, 4]])
    out_train = generator.train()._gate(raw)
    torch.testing.assert_close(out_train, out_eval)
    out_train.sum().backward()
    soft = torch.sigmoid(raw[:, 5:].detach())
    derivative = soft * (1 - soft)
    expected = derivative * (1 + raw[:, [1, 2]].detach())
    torch.testing.assert_close(raw.grad[:, 5:], expected)
    torch.testing.assert_close(raw.grad[:, [1, 2]], hits)  # only kept values learn
    assert torch.all(raw.grad[:, [0, 3, 4]] == 1)
    with pytest.raises(ValueError, match="hit_mask_columns"):
        GanConfig(n_features=7, hit_mask_columns=[6])
    with pytest.raises(ValueError, match="consecutive"):
        GanConfig(n_features=7, hit_mask_columns=[0, 2])


@pytest.mark.slow
def test_a_hit_mask_model_exports_the_same_events(tmp_path: Path) -> None:
    """A model trained with ``shower_hit_mask`` generates through the artefact and ONNX Runtime
    to the same showers (the same empty voxels exactly)."""
    ort = pytest.importorskip("onnxruntime")
    from hepgan.cli import main
    from hepgan.models.artefact import load_artefact
    from tests.support.onnx_parity import onnx_and_sampler
    from tests.support.tiny import make_tiny_artefact

    folder = make_tiny_artefact(
        tmp_path / "masked", kind="showers", shower=ShowerTransformSettings(hit_mask=True)
    )
    artefact = load_artefact(folder)
    assert artefact.card.architecture["hit_mask_columns"]
    assert artefact.card.architecture["hit_layer_size"] == 12  # the layer rule is in the graph
    assert main(["export", "--model", str(folder), "-o", str(tmp_path / "m.onnx")]) == 0
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    events, expected = onnx_and_sampler(artefact, session, n_events=500, seed=4)
    np.testing.assert_array_equal(events == 0, expected == 0)
    np.testing.assert_allclose(events, expected, rtol=1e-4, atol=1e-6)
    assert 0 < np.mean(expected == 0) < 1


def test_settings_that_cannot_go_with_a_hit_mask_are_refused() -> None:
    from hepgan.errors import ConfigError

    with pytest.raises(ConfigError, match="shower.hit_mask"):
        ShowerTransformSettings(hit_mask=True, dequantise=True).validate()
    ShowerTransformSettings(hit_mask=True).validate()
    # without energy shares (voxels as fractions of E_inc) the mask does not apply
    voxels, energy = _showers(3, 100)
    ratio = ShowerTransformSettings(energy_shares=False, layer_shares=False, random_symmetry=False)
    assert gated_columns(fit_shower_transform(voxels, energy, ratio).steps) == ([], [])


def test_the_chains_in_place_inverse_equals_each_steps_copying_inverse() -> None:
    """FeatureTransform.inverse lets each step overwrite the chain's own float64 copy
    (inverse_owned): the same showers as every step's copying inverse in turn, to float64
    rounding, and the caller's array untouched."""
    voxels, energy = _showers(4, 300)
    transform = _fitted(voxels, energy)
    y = transform.forward(voxels, energy[:, None]).astype(np.float64)
    y += np.random.default_rng(5).normal(0.0, 0.3, y.shape)  # a generator's imperfect values
    before = y.copy()
    expected = y
    for step in reversed(transform.steps):
        expected = step.inverse(expected, energy[:, None])
    got = transform.inverse(y, energy[:, None])
    np.testing.assert_array_equal(y, before)
    np.testing.assert_allclose(got, expected.astype(np.float32), rtol=1e-6, atol=1e-9)
    assert np.array_equal(got == 0, expected == 0)


def test_a_layer_decided_hit_lights_its_voxel_of_largest_logit() -> None:
    """hit_layer_size P: with L = 2 layers of P = 2 voxels, the masked columns are the 4
    shares and the 2 layer fractions. A layer decided hit whose voxels are all decided empty
    gets its voxel of largest logit lit; a layer decided empty, or one with a lit voxel,
    keeps its voxels' own decisions."""
    config = GanConfig(
        n_features=12,
        latent_dim=2,
        generator_hidden=[4],
        hit_mask_columns=list(range(6)),
        hit_layer_size=2,
    )
    generator = Generator(config).eval()
    values = torch.ones(3, 6)
    logits = torch.tensor(
        [
            [-1.0, -0.5, -2.0, -3.0, 1.0, -1.0],  # layer 0 hit, voxels empty: voxel 1 lit
            [-1.0, -0.5, 0.5, -3.0, -1.0, 1.0],  # layer 0 empty; layer 1 has a lit voxel
            [-0.2, -0.5, -2.0, -3.0, 1.0, 1.0],  # both layers hit, no voxel: 0 and 2 lit
        ]
    )
    hits = generator._gate(torch.cat([values, logits], dim=1))[:, 6:]
    expected = torch.tensor(
        [
            [0.0, 1.0, 0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0, 0.0, 0.0, 1.0],
            [1.0, 0.0, 1.0, 0.0, 1.0, 1.0],
        ]
    )
    torch.testing.assert_close(hits, expected)
    with pytest.raises(ValueError, match="hit_layer_size"):
        GanConfig(n_features=12, hit_mask_columns=list(range(6)), hit_layer_size=3)
