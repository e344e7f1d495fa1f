"""The classifier two-sample test: can a small network tell candidate from reference events?

A multilayer perceptron is trained on a split of the two samples (balanced:
the larger one is subsampled), and judged on the held-out events: the ROC AUC
is 0.5 when the samples cannot be told apart and 1 when they are disjoint. Its
output D(x) = P(reference | x) is a discriminator, so the GAN value on held-out
events gives a JS estimate, JS ~ ln 2 + 1/2 E_ref[ln D] + 1/2 E_cand[ln(1 - D)]
(:mod:`hepgan.validation.gan_theory`), clipped at 0. Deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from hepgan.validation.gan_theory import gan_value, js_from_value
from hepgan.validation.report_schema import ClassifierScore


@dataclass(frozen=True)
class ClassifierOptions:
    """How the discriminator is built and trained."""

    hidden: int = 64  # width of the two hidden layers
    epochs: int = 20  # passes over the training events
    batch_size: int = 256
    learning_rate: float = 1e-3  # Adam
    test_fraction: float = 0.3  # share of the (balanced) events held out for the AUC
    max_events_per_class: int = 20_000  # each sample is subsampled to at most this many events


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


def classifier_two_sample_test(
    candidate: np.ndarray,
    reference: np.ndarray,
    *,
    options: ClassifierOptions | None = None,
    seed: int = 0,
    device: str = "cpu",
) -> ClassifierScore:
    """ROC AUC and JS estimate on held-out events of an MLP telling reference (label 1) from
    candidate (label 0); candidate (n, F), reference (m, F)."""
    options = options or ClassifierOptions()
    candidate, reference = paired_samples(candidate, reference)
    rng = np.random.default_rng(seed)
    n_per_class = min(len(candidate), len(reference), options.max_events_per_class)
    n_test = max(1, int(round(options.test_fraction * n_per_class)))
    if n_per_class - n_test < 1:
        raise ValueError(f"too few events for a classifier test: {n_per_class} per class")
    candidate = candidate[rng.permutation(len(candidate))[:n_per_class]]
    reference = reference[rng.permutation(len(reference))[:n_per_class]]
    logits = train_discriminator(
        reference[n_test:], candidate[n_test:], options=options, seed=seed, device=device
    )
    logit_reference, logit_candidate = logits(reference[:n_test]), logits(candidate[:n_test])
    value = gan_value(_log_sigmoid(logit_reference), _log_sigmoid(-logit_candidate))
    return ClassifierScore(
        auc=roc_auc(logit_reference, logit_candidate),
        js_estimate_nats=js_from_value(value),
        n_train=2 * (n_per_class - n_test),
        n_test=2 * n_test,
        n_features=candidate.shape[1],
        seed=seed,
    )


def paired_samples(candidate: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both samples as (N, F) float64; raises ValueError when their feature counts differ."""
    candidate, reference = _as_2d(candidate), _as_2d(reference)
    if candidate.shape[1] != reference.shape[1]:
        raise ValueError(
            f"candidate has {candidate.shape[1]} features, reference {reference.shape[1]}"
        )
    return candidate, reference


def _log_sigmoid(logit: np.ndarray) -> np.ndarray:
    """ln sigmoid(t) = -ln(1 + e^-t), computed without overflow."""
    return -np.logaddexp(0.0, -np.asarray(logit, dtype=np.float64))


def _as_2d(samples: np.ndarray) -> np.ndarray:
    """(N,) -> (N, 1); (N, F) unchanged."""
    samples = np.asarray(samples, dtype=np.float64)
    return samples[:, None] if samples.ndim == 1 else samples
