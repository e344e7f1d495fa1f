"""Classifier building blocks: a discriminator's training epoch, the ROC AUC and ln D from
logits.

The classifier two-sample test that judges models is
:func:`hepgan.validation.judges.high_level_classifier.high_level_classifier_test`; its trained
network (:func:`~hepgan.validation.judges.high_level_classifier.train_judge`) on held-out
events gives the GAN value and from it a JS estimate,
JS ~ ln 2 + 1/2 E_ref[ln D] + 1/2 E_cand[ln(1 - D)] (:mod:`hepgan.validation.judges.gan_theory`),
which is how the identity V(G, D*) = 2 JS - 2 ln 2 (Goodfellow et al. 2014) is tested.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def roc_auc(scores_positive: np.ndarray, scores_negative: np.ndarray) -> float:
    """AUC = P(score of a positive > score of a negative) + 1/2 P(equal), via mid-ranks
    (Mann-Whitney U / (n_pos n_neg))."""
    ranks = stats.rankdata(np.concatenate([scores_positive, scores_negative]))
    n_pos, n_neg = len(scores_positive), len(scores_negative)
    u_statistic = ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u_statistic / (n_pos * n_neg))


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
    candidate, reference = as_rows(candidate), as_rows(reference)
    if candidate.shape[1] != reference.shape[1]:
        raise ValueError(
            f"candidate has {candidate.shape[1]} features, reference {reference.shape[1]}"
        )
    return candidate, reference


def log_sigmoid(logit: np.ndarray) -> np.ndarray:
    """ln sigmoid(t) = -ln(1 + e^-t), computed without overflow."""
    return -np.logaddexp(0.0, -np.asarray(logit, dtype=np.float64))


def as_rows(samples: np.ndarray) -> np.ndarray:
    """(N,) -> (N, 1); (N, F) unchanged; as float64."""
    samples = np.asarray(samples, dtype=np.float64)
    return samples[:, None] if samples.ndim == 1 else samples
