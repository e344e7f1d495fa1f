"""The two-stage shower generator (``[network] two_stage``): the first stage's columns are the
layer-level summary and depend on (z, c) alone, gradients reach both stages and the critic's
branch, and a two-stage model gives the same showers through the artefact, ONNX and the
service."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch

from hepgan.errors import ConfigError
from hepgan.models.networks import Critic, GanConfig, Generator
from hepgan.models.transforms import fit_shower_transform
from hepgan.models.transforms.settings import ShowerTransformSettings
from hepgan.models.transforms.stages import layer_level_columns

LAYERS, PER_LAYER = 5, 4
SHAPE = (LAYERS, 2, 2)
N_VOXELS = LAYERS * PER_LAYER


def _transform(**settings):
    rng = np.random.default_rng(1)
    voxels = rng.gamma(0.5, 2.0, (300, N_VOXELS)) * (rng.random((300, N_VOXELS)) > 0.4)
    energy = rng.uniform(50.0, 500.0, 300)
    shower = ShowerTransformSettings(random_symmetry=False, **settings)
    transform = fit_shower_transform(voxels, energy, shower, shape=SHAPE)
    return transform, transform.forward(voxels, energy[:, None]).shape[1]


def test_the_first_stage_is_the_layer_fractions_the_response_and_their_decisions() -> None:
    """[V shares, L fractions, response, V + L indicators]: the first stage is columns V to
    V + L (the L fractions and the response) and the L fractions' indicators."""
    transform, width = _transform(hit_mask=True)
    n_values = N_VOXELS + LAYERS + 1
    assert width == n_values + N_VOXELS + LAYERS
    fractions_and_response = list(range(N_VOXELS, n_values))
    indicators = list(range(n_values + N_VOXELS, n_values + N_VOXELS + LAYERS))
    assert layer_level_columns(transform.steps, width) == fractions_and_response + indicators
    plain, plain_width = _transform(hit_mask=False)
    assert layer_level_columns(plain.steps, plain_width) == fractions_and_response
    flat, flat_width = _transform(hit_mask=False, layer_shares=False)
    with pytest.raises(ConfigError, match="two_stage needs showers with layer shares"):
        layer_level_columns(flat.steps, flat_width)


def _two_stage(**sizes) -> GanConfig:
    return GanConfig(
        n_features=9,
        n_conditions=1,
        latent_dim=4,
        generator_hidden=[16],
        critic_hidden=[16],
        stage_one_columns=[6, 2, 3],
        stage_one_hidden=[8],
        **sizes,
    )


def test_the_first_stage_sees_noise_and_conditions_alone_and_both_stages_learn() -> None:
    """Changing the second network changes every column but the first stage's; a loss on the
    outputs reaches both networks; the outputs are in column order."""
    torch.manual_seed(0)
    generator = Generator(_two_stage())
    noise, conditions = torch.randn(32, 4), torch.randn(32, 1)
    before = generator(noise, conditions).detach()
    assert before.shape == (32, 9)
    first = generator.stage_one(torch.cat([noise, conditions], dim=1)).detach()
    torch.testing.assert_close(before[:, [6, 2, 3]], first)
    with torch.no_grad():
        generator.net[0].weight.add_(1.0)
    after = generator(noise, conditions).detach()
    torch.testing.assert_close(after[:, [6, 2, 3]], before[:, [6, 2, 3]])
    others = [0, 1, 4, 5, 7, 8]
    assert torch.all(after[:, others] != before[:, others])
    generator(noise, conditions).square().sum().backward()
    for network in (generator.stage_one, generator.net):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in network.parameters())


def test_the_critic_branch_scores_the_first_stages_columns_alone() -> None:
    """D = D_all(x, c) + D_S(x_S, c): with D_all silenced, only the first stage's columns
    move the score, and the penalty's gradient reaches the branch."""
    torch.manual_seed(1)
    critic = Critic(_two_stage())
    with torch.no_grad():
        for parameter in critic.net.parameters():
            parameter.zero_()
    x, c = torch.randn(16, 9, requires_grad=True), torch.randn(16, 1)
    score = critic(x, c)
    (gradient,) = torch.autograd.grad(score.sum(), x)
    assert torch.all(gradient[:, [0, 1, 4, 5, 7, 8]] == 0)
    assert torch.all(gradient[:, [6, 2, 3]].abs().sum(dim=1) > 0)
    expected = critic.stage_one(torch.cat([x[:, [6, 2, 3]], c], dim=1)).squeeze(-1)
    torch.testing.assert_close(score, expected)


def test_invalid_stage_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="distinct"):
        GanConfig(n_features=4, stage_one_columns=[1, 1])
    with pytest.raises(ValueError, match="distinct"):
        GanConfig(n_features=4, stage_one_columns=[4])
    with pytest.raises(ValueError, match="second stage"):
        GanConfig(n_features=2, stage_one_columns=[0, 1])


def test_two_stage_refuses_a_critic_without_its_branch(tmp_path: Path) -> None:
    from tests.support.tiny import make_tiny_artefact

    with pytest.raises(ConfigError, match="two_stage"):
        make_tiny_artefact(
            tmp_path / "m", kind="showers", steps=1, minibatch_std_group=4, network=_network()
        )


def _network():
    from hepgan.training.config import NetworkSettings

    return NetworkSettings(
        latent_dim=8,
        generator_hidden=[32],
        critic_hidden=[32],
        two_stage=True,
        stage_one_hidden=[16],
    )


@pytest.mark.slow
def test_a_two_stage_model_gives_the_same_showers_everywhere(tmp_path: Path) -> None:
    """Artefact (numpy inverse), ONNX Runtime (the exported graph of both stages) and a /v1
    request to a live server give the same showers for the same noise and conditions."""
    ort = pytest.importorskip("onnxruntime")
    from hepgan.cli import main
    from hepgan.models.artefact import load_artefact
    from hepgan.service.conditions import NOISE_STREAM, chunk_seed
    from hepgan.service.settings import Settings
    from tests.support.onnx_parity import onnx_and_sampler
    from tests.support.threaded_server import serve_in_thread
    from tests.support.tiny import make_tiny_artefact

    models = tmp_path / "models"
    folder = make_tiny_artefact(models / "two_stage", kind="showers", steps=4, network=_network())
    artefact = load_artefact(folder)
    assert artefact.card.architecture["stage_one_columns"]
    assert main(["export", "--model", str(folder), "-o", str(tmp_path / "m.onnx")]) == 0
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    events, expected = onnx_and_sampler(artefact, session, n_events=400, seed=5)
    np.testing.assert_array_equal(events == 0, expected == 0)
    np.testing.assert_allclose(events, expected, rtol=1e-4, atol=1e-6)

    energies = np.geomspace(2e3, 5e4, 300)[:, None]
    seed = 7
    settings = Settings(models_dir=models, warmup_events=0, device="cpu")
    server = serve_in_thread(settings)
    live = next(server)
    try:
        response = httpx.post(
            f"{live.url}/v1/models/two_stage/generate",
            json={
                "n_events": len(energies),
                "conditions": {"incident_energy": energies[:, 0].tolist()},
                "seed": seed,
                "format": "npz",
                "validate": False,
            },
            timeout=120,
        )
    finally:
        server.close()
    assert response.status_code == 200, response.text
    with np.load(io.BytesIO(response.content), allow_pickle=False) as arrays:
        served = arrays["features"]
    in_process = artefact.generate(
        len(energies), conditions=energies, seed=chunk_seed(seed, 0, NOISE_STREAM)
    )
    np.testing.assert_array_equal(served, in_process)
    assert 0 < np.mean(in_process == 0) < 1


def test_resuming_with_other_networks_names_the_settings(tmp_path: Path) -> None:
    """A run begun with two stages, resumed with one network: a ConfigError that says which
    settings to resume with, not a traceback of shapes."""
    from hepgan.training.config import NetworkSettings
    from hepgan.training.loop import run_training
    from tests.support.tiny import tiny_config, toy_training_data

    data = toy_training_data("showers", n_events=600, seed=2)
    run_training(tiny_config(tmp_path / "m", data, steps=2, network=_network()), data)
    one_network = NetworkSettings(
        latent_dim=8, generator_hidden=[32], critic_hidden=[32], two_stage=False
    )
    resumed = tiny_config(tmp_path / "m", data, steps=4, network=one_network, resume=True)
    with pytest.raises(ConfigError, match="--resume: the checkpoint's networks differ.*two_stage"):
        run_training(resumed, data)
