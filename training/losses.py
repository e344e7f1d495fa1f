"""GAN losses, one function per term, each with its formula.

Notation: D is the critic's raw output (a logit s for the cross-entropy game,
an unbounded score for Wasserstein), x real samples, x~ = G(z, c) generated
ones, c the conditions, sigma the logistic function; E is the batch mean.

The cross-entropy game (Goodfellow et al. 2014), the seed's loss ``"bce"``:
    max_D V = E[ln sigma(D(x))] + E[ln(1 - sigma(D(x~)))]
and the generator either minimises V (minimax) or, as used here, maximises
E[ln sigma(D(x~))] (non-saturating: strong gradients while D wins).

WGAN-GP (Gulrajani et al. 2017), ``"wgan-gp"``, the default: the critic
maximises E[D(x)] - E[D(x~)] subject to a soft 1-Lipschitz constraint
lambda E[(||grad_x^ D(x^)||_2 - 1)^2] on random interpolates x^; with
lambda = 10 and 5 critic steps per generator step, as in ATLAS FastCaloGAN.

ln sigma(s) = -softplus(-s) and ln(1 - sigma(s)) = -softplus(s) keep every
term finite for any logit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F

LossName = Literal["wgan-gp", "bce"]


def bce_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """-E[ln sigma(D(x))] - E[ln(1 - sigma(D(x~)))] = E[softplus(-D(x))] + E[softplus(D(x~))]."""
    return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()


def bce_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Non-saturating: -E[ln sigma(D(x~))] = E[softplus(-D(x~))]."""
    return F.softplus(-fake_scores).mean()


def wasserstein_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[D(x~)] - E[D(x)]: minus the critic's estimate of the Wasserstein-1 distance."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E[D(x~)]."""
    return -fake_scores.mean()


def interpolate(
    real: torch.Tensor, fake: torch.Tensor, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """x^ = e x + (1 - e) x~ with e ~ U(0, 1) per sample; shapes (B, F)."""
    weights = torch.rand(real.shape[0], 1, generator=generator).to(real.device, real.dtype)
    return weights * real + (1 - weights) * fake.detach()


def gradient_penalty(
    interpolate_scores: torch.Tensor, interpolates: torch.Tensor, *, weight: float = 10.0
) -> torch.Tensor:
    """lambda E[(||grad_x^ D(x^)||_2 - 1)^2], the WGAN-GP penalty.

    ``interpolates`` (B, F) must require grad and ``interpolate_scores`` (B,) be
    D(x^); the graph is kept (create_graph) so the penalty trains the critic.
    """
    (gradients,) = torch.autograd.grad(
        interpolate_scores.sum(), interpolates, create_graph=True
    )  # (B, F)
    norms = gradients.flatten(1).norm(2, dim=1)  # (B,)
    return weight * ((norms - 1.0) ** 2).mean()


def critic_terms(
    loss: LossName,
    critic: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    conditions: torch.Tensor | None,
    *,
    penalty_weight: float = 10.0,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """The critic's loss terms by name; the critic minimises their sum.

    One critic call scores real, generated and (WGAN-GP) interpolated samples
    together, so a DDP-wrapped critic sees one forward per backward.
    """
    batch = real.shape[0]
    fake = fake.detach()
    inputs = [real, fake]
    if loss == "wgan-gp":
        interpolates = interpolate(real, fake, generator=generator).requires_grad_(True)
        inputs.append(interpolates)
    repeated = None if conditions is None else conditions.repeat(len(inputs), 1)
    scores = critic(torch.cat(inputs), repeated).float()  # (k B,)
    real_scores, fake_scores = scores[:batch], scores[batch : 2 * batch]
    if loss == "bce":
        return {"critic_bce": bce_critic_loss(real_scores, fake_scores)}
    return {
        "critic_wasserstein": wasserstein_critic_loss(real_scores, fake_scores),
        "gradient_penalty": gradient_penalty(
            scores[2 * batch :], interpolates, weight=penalty_weight
        ),
    }


def generator_terms(loss: LossName, fake_scores: torch.Tensor) -> dict[str, torch.Tensor]:
    """The generator's loss terms by name; the generator minimises their sum."""
    fake_scores = fake_scores.float()
    if loss == "bce":
        return {"generator_bce": bce_generator_loss(fake_scores)}
    return {"generator_wasserstein": wasserstein_generator_loss(fake_scores)}
