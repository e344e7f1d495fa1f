"""Each loss term against its formula on hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from hepgan.training import losses


def _ln_sigmoid(s: float) -> float:
    return math.log(1.0 / (1.0 + math.exp(-s)))


def test_bce_terms_match_the_cross_entropy_formulas() -> None:
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    # -E[ln sigma(D(x))] - E[ln(1 - sigma(D(G(z))))], with 1 - sigma(s) = sigma(-s)
    expected = (
        -(_ln_sigmoid(2.0) + _ln_sigmoid(-1.0)) / 2 - (_ln_sigmoid(-0.5) + _ln_sigmoid(3.0)) / 2
    )
    assert losses.bce_critic_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)
    non_saturating = -(_ln_sigmoid(0.5) + _ln_sigmoid(-3.0)) / 2
    assert losses.bce_generator_loss(fake).item() == pytest.approx(non_saturating, rel=1e-6)


def test_bce_is_finite_for_extreme_logits() -> None:
    real, fake = torch.tensor([-1000.0]), torch.tensor([1000.0])
    assert losses.bce_critic_loss(real, fake).item() == pytest.approx(2000.0)


def test_wasserstein_terms() -> None:
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0])
    assert losses.wasserstein_critic_loss(real, fake).item() == pytest.approx(-1.0 - 2.0)
    assert losses.wasserstein_generator_loss(fake).item() == pytest.approx(1.0)


def test_gradient_penalty_of_a_linear_critic() -> None:
    """D(x) = w . x has gradient w everywhere: penalty = lambda (|w| - 1)^2."""
    w = torch.tensor([3.0, 4.0])  # |w| = 5
    x = torch.randn(8, 2, requires_grad=True)
    penalty = losses.gradient_penalty(x @ w, x, weight=10.0)
    assert penalty.item() == pytest.approx(10.0 * 16.0)
    x_unit = torch.randn(8, 2, requires_grad=True)
    assert losses.gradient_penalty(x_unit @ (w / 5), x_unit).item() == pytest.approx(0.0, abs=1e-10)


def test_interpolates_lie_between_real_and_fake() -> None:
    real, fake = torch.zeros(1000, 3), torch.ones(1000, 3)
    mixed = losses.interpolate(real, fake, generator=torch.Generator().manual_seed(0))
    # x^ = e x + (1 - e) x~ = 1 - e with one e per sample, uniform on (0, 1)
    assert torch.all(mixed[:, 0] == mixed[:, 1])
    assert 0.0 <= mixed.min() and mixed.max() <= 1.0
    assert mixed[:, 0].mean().item() == pytest.approx(0.5, abs=0.05)


def test_critic_terms_combine_one_forward() -> None:
    calls = []

    def critic(x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        calls.append(x.shape)
        return x.sum(dim=1) * 0.5  # gradient (0.5, 0.5): norm 1/sqrt(2)

    real, fake = torch.ones(4, 2), torch.zeros(4, 2)
    terms = losses.critic_terms("wgan-gp", critic, real, fake, torch.zeros(4, 1))
    assert calls == [(12, 2)]
    assert terms["critic_wasserstein"].item() == pytest.approx(0.0 - 1.0)
    assert terms["gradient_penalty"].item() == pytest.approx(10 * (2**-0.5 - 1) ** 2)
    bce = losses.critic_terms("bce", critic, real, fake, None)
    assert list(bce) == ["critic_bce"]
