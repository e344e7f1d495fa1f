"""Classifier building blocks: a discriminator D(x) = P(positive | x), its training epoch,
the ROC AUC and ln D from logits.

The classifier two-sample test that judges models is
:func:`hepgan.validation.judges.high_level_classifier.high_level_classifier_test`; a trained
discriminator's output on held-out events gives the GAN value and from it a JS estimate,
JS ~ ln 2 + 1/2 E_ref[ln D] + 1/2 E_cand[ln(1 - D)] (:mod:`hepgan.validation.judges.gan_theory`),
which is how the identity V(G, D*) = 2 JS - 2 ln 2 (Goodfellow et al. 2014) is tested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class ClassifierOptions:
    """How the discriminator is built and trained."""

    hidden: int = 64  # width of the two hidden layers
    epochs: int = 20  # passes over the training events
    batch_size: int = 256
    learning_rate: float = 1e-3  # Adam


def roc_auc(scores_positive: np.ndarray, scores_negative: np.ndarray) -> float:
    """AUC = P(score of a positive > score of a negative) + 1/2 P(equal), via mid-ranks
    (Mann-Whitney U / (n_pos n_neg))."""
    ranks = stats.rankdata(np.concatenate([scores_positive, scores_negative]))
    n_pos, n_neg = len(scores_positive), len(scores_negative)
    u_statistic = ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u_statistic / (n_pos * n_neg))


def train_discriminator(
    positives: np.ndarray,
    negatives: np.ndarray,
    *,
    options: ClassifierOptions | None = None,
    seed: int = 0,
    device: str = "cpu",
) -> Callable[[np.ndarray], np.ndarray]:
    """Train an MLP to output logit D(x) (D = P(positive | x)) on (n, F) and (m, F) samples.

    Minimises the binary cross-entropy, i.e. maximises the GAN value V(G, D)
    with positives as data. Features are standardised with the training mean and
    width. Returns a callable mapping (k, F) events to logits (k,) as numpy.
    """
    import torch

    options = options or ClassifierOptions()
    positives, negatives = _as_2d(positives), _as_2d(negatives)
    inputs = np.concatenate([positives, negatives]).astype(np.float32)  # (n + m, F)
    labels = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))]).astype(np.float32)
    mean, width = inputs.mean(axis=0), inputs.std(axis=0)
    width = np.where(width > 0, width, 1.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = torch.nn.Sequential(
            torch.nn.Linear(inputs.shape[1], options.hidden),
            torch.nn.SiLU(),
            torch.nn.Linear(options.hidden, options.hidden),
            torch.nn.SiLU(),
            torch.nn.Linear(options.hidden, 1),
        ).to(device)
        optimiser = torch.optim.Adam(network.parameters(), lr=options.learning_rate)
        x = torch.as_tensor((inputs - mean) / width, device=device)  # (n + m, F)
        y = torch.as_tensor(labels, device=device)
        generator = torch.Generator().manual_seed(seed)
        for _ in range(options.epochs):
            train_one_epoch(network, optimiser, x, y, options.batch_size, generator)
    network.eval()

    def logits(events: np.ndarray) -> np.ndarray:
        scaled = (_as_2d(events).astype(np.float32) - mean) / width
        with torch.no_grad():
            return network(torch.as_tensor(scaled, device=device)).squeeze(1).cpu().numpy()

    return logits


def train_one_epoch(network, optimiser, x, y, batch_size: int, generator) -> None:
    """One pass over (x (N, F), labels y (N,)) in a random order drawn from ``generator``:
    Adam steps on the binary cross-entropy of the network's logits, ``batch_size`` rows each."""
    import torch

    order = torch.randperm(len(x), generator=generator).to(x.device)
    for start in range(0, len(x), batch_size):
        batch = order[start : start + batch_size]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            network(x[batch]).squeeze(1), y[batch]
        )
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()


def paired_samples(candidate: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both samples as (N, F) float64; raises ValueError when their feature counts differ."""
    candidate, reference = _as_2d(candidate), _as_2d(reference)
    if candidate.shape[1] != reference.shape[1]:
        raise ValueError(
            f"candidate has {candidate.shape[1]} features, reference {reference.shape[1]}"
        )
    return candidate, reference


def log_sigmoid(logit: np.ndarray) -> np.ndarray:
    """ln sigmoid(t) = -ln(1 + e^-t), computed without overflow."""
    return -np.logaddexp(0.0, -np.asarray(logit, dtype=np.float64))


def _as_2d(samples: np.ndarray) -> np.ndarray:
    """(N,) -> (N, 1); (N, F) unchanged."""
    samples = np.asarray(samples, dtype=np.float64)
    return samples[:, None] if samples.ndim == 1 else samples
