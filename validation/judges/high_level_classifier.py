"""The strong judge: a CaloChallenge-style high-level classifier two-sample test.

As in the CaloChallenge 2022 evaluation (arXiv:2410.21611, "high-level" classifier):
a network with two hidden layers of 2,048 units (LeakyReLU) tells reference
(label 1) from candidate (label 0) events. Inputs for showers: log10 of the energy
per layer (MeV, + 1e-8), per-layer centres of energy and widths in x and y (mm /
100) and log10 of the incident energy (GeV); for events the features. Every input
column is standardised with the training split's mean and width.

The (balanced) events are split into train / validation / test (60 / 20 / 20 by
default). Adam (learning rate 1e-4, as the CaloChallenge) minimises the binary
cross-entropy; after each epoch the validation loss is measured and training
stops when it has not improved for ``patience`` epochs, after ``max_epochs`` or
after ``max_seconds`` of wall time; the weights of the best validation epoch are
kept. The ROC AUC is measured on the test split.

Calibration (Platt scaling): D(x) = sigmoid(a t(x) + b), with t the network's
logit and (a, b) minimising the cross-entropy on the validation split. Scaling by
a > 0 does not change the AUC, but it makes D an estimate of the probability
p_ref / (p_ref + p_cand), so the GAN value on the test split gives the JS divergence
(V(G, D*) = 2 JS - 2 ln 2, :mod:`hepgan.validation.judges.gan_theory`), in nats:

    JS = ln 2 + 1/2 E_ref[ln D] + 1/2 E_cand[ln(1 - D)]   (clipped at 0)

An over-confident uncalibrated network gives a negative value for two equal
samples; calibrated, it gives about 0.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from hepgan.validation.judges.classifier import (
    log_sigmoid,
    paired_samples,
    roc_auc,
    train_one_epoch,
)
from hepgan.validation.judges.gan_theory import gan_value, js_from_value
from hepgan.validation.report.schema import ClassifierScore

LOG_ENERGY_FLOOR_MEV = 1e-8  # added before log10 so empty layers stay finite (CaloChallenge)
MM_PER_UNIT = 100.0  # centres and widths enter as mm / 100 (CaloChallenge)


@dataclass(frozen=True)
class HighLevelClassifierOptions:
    """Settings of the judge; defaults keep it to a few minutes on 2 CPU cores."""

    hidden: int = 2048  # width of each of the two hidden layers
    negative_slope: float = 0.01  # LeakyReLU
    learning_rate: float = 1e-4  # Adam, as the CaloChallenge
    batch_size: int = 1024
    max_epochs: int = 30
    patience: int = 3  # epochs without a better validation loss before stopping
    max_seconds: float = 300.0  # wall-clock cap of the training (checked after each epoch)
    validation_fraction: float = 0.2
    test_fraction: float = 0.2
    max_events_per_class: int = 50_000  # each sample is subsampled to at most this many


@dataclass(frozen=True)
class HighLevelClassifierResult:
    """What the judge measured; ``score()`` gives the report's ClassifierScore."""

    auc: float  # ROC AUC on the test split
    js_nats: float  # JS from the calibrated D on the test split, nats
    js_uncalibrated_nats: float  # the same from the raw network output
    calibration: tuple[float, float]  # Platt (a, b): D = sigmoid(a t + b)
    epochs: int  # epochs trained
    best_epoch: int  # 1-based epoch whose weights were kept
    stopped_by: str  # "patience", "max_epochs" or "max_seconds"
    wall_seconds: float
    n_train: int
    n_validation: int
    n_test: int
    n_features: int
    seed: int

    def score(self) -> ClassifierScore:
        return ClassifierScore(
            auc=self.auc,
            js_estimate_nats=self.js_nats,
            n_train=self.n_train,
            n_test=self.n_test,
            n_features=self.n_features,
            seed=self.seed,
        )

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def shower_high_level_features(
    observables: Mapping[str, np.ndarray], incident_energy_mev: np.ndarray
) -> np.ndarray:
    """(N, 5 L + 1) judge inputs from
    :func:`~hepgan.validation.report.observables.shower_observables`:
    log10(E_layer / MeV + 1e-8), centre_x, centre_y, width_x, width_y per layer (mm / 100),
    log10(E_inc / GeV)."""
    layers = sorted(name for name in observables if name.startswith("e_layer_"))
    if not layers:
        raise ValueError("no e_layer_* observables: these are not shower observables")
    columns = [
        np.log10(np.asarray(observables[name], np.float64) + LOG_ENERGY_FLOOR_MEV)
        for name in layers
    ]
    for prefix in ("centre_x_layer", "centre_y_layer", "width_x_layer", "width_y_layer"):
        columns += [
            np.asarray(observables[name.replace("e_layer", prefix)], np.float64) / MM_PER_UNIT
            for name in layers
        ]
    columns.append(np.log10(np.asarray(incident_energy_mev, np.float64).reshape(-1) / 1000.0))
    return np.column_stack(columns)


def high_level_classifier_test(
    candidate: np.ndarray,
    reference: np.ndarray,
    *,
    options: HighLevelClassifierOptions | None = None,
    seed: int = 0,
    device: str = "cpu",
) -> HighLevelClassifierResult:
    """Train the judge on candidate (n, F) vs reference (m, F) inputs; AUC and calibrated JS
    on the held-out test split. Deterministic for a seed (on the CPU)."""
    options = options or HighLevelClassifierOptions()
    candidate, reference = paired_samples(candidate, reference)
    rng = np.random.default_rng(seed)
    n = min(len(candidate), len(reference), options.max_events_per_class)
    n_test = int(round(options.test_fraction * n))
    n_validation = int(round(options.validation_fraction * n))
    if min(n_test, n_validation, n - n_test - n_validation) < 1:
        raise ValueError(f"too few events for the high-level classifier: {n} per class")
    candidate = candidate[rng.permutation(len(candidate))[:n]]
    reference = reference[rng.permutation(len(reference))[:n]]
    splits = {}
    for name, rows in (
        ("test", slice(0, n_test)),
        ("validation", slice(n_test, n_test + n_validation)),
        ("train", slice(n_test + n_validation, n)),
    ):
        splits[name] = (
            np.concatenate([reference[rows], candidate[rows]]),
            np.concatenate([np.ones(len(reference[rows])), np.zeros(len(candidate[rows]))]),
        )
    mean = splits["train"][0].mean(axis=0)
    width = splits["train"][0].std(axis=0)
    width = np.where(width > 0, width, 1.0)
    scaled = {
        name: (((x - mean) / width).astype(np.float32), y.astype(np.float32))
        for name, (x, y) in splits.items()
    }
    logits, epochs, best_epoch, stopped_by, wall = _train(scaled, options, seed, device)
    validation_logits = logits(scaled["validation"][0])
    a, b = _platt(validation_logits, scaled["validation"][1])
    test_x, test_y = scaled["test"]
    test_logits = logits(test_x)
    positive, negative = test_y == 1, test_y == 0
    return HighLevelClassifierResult(
        auc=roc_auc(test_logits[positive], test_logits[negative]),
        js_nats=_js(a * test_logits[positive] + b, a * test_logits[negative] + b),
        js_uncalibrated_nats=_js(test_logits[positive], test_logits[negative]),
        calibration=(a, b),
        epochs=epochs,
        best_epoch=best_epoch,
        stopped_by=stopped_by,
        wall_seconds=round(wall, 2),
        n_train=len(scaled["train"][1]),
        n_validation=len(scaled["validation"][1]),
        n_test=len(test_y),
        n_features=candidate.shape[1],
        seed=seed,
    )


def _train(scaled: dict, options: HighLevelClassifierOptions, seed: int, device: str):
    """Adam on the BCE with early stopping on the validation loss; the best epoch's weights.
    Returns (logit function, epochs, best epoch, why it stopped, wall seconds)."""
    import torch

    started = time.monotonic()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        width = scaled["train"][0].shape[1]
        network = torch.nn.Sequential(
            torch.nn.Linear(width, options.hidden),
            torch.nn.LeakyReLU(options.negative_slope),
            torch.nn.Linear(options.hidden, options.hidden),
            torch.nn.LeakyReLU(options.negative_slope),
            torch.nn.Linear(options.hidden, 1),
        ).to(device)
        optimiser = torch.optim.Adam(network.parameters(), lr=options.learning_rate)
        x, y = (torch.as_tensor(array, device=device) for array in scaled["train"])
        order_source = torch.Generator().manual_seed(seed)

        def logits(events: np.ndarray) -> np.ndarray:
            network.eval()
            with torch.inference_mode():
                out = [
                    network(torch.as_tensor(events[i : i + 8192], device=device)).squeeze(1)
                    for i in range(0, len(events), 8192)
                ]
            network.train()
            return torch.cat(out).double().cpu().numpy()

        best_loss, best_epoch, best_state = np.inf, 0, None
        stopped_by, epoch = "max_epochs", 0
        for epoch in range(1, options.max_epochs + 1):
            train_one_epoch(network, optimiser, x, y, options.batch_size, order_source)
            validation_loss = _bce(logits(scaled["validation"][0]), scaled["validation"][1])
            if validation_loss < best_loss:
                best_loss, best_epoch = validation_loss, epoch
                best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
            if epoch - best_epoch >= options.patience:
                stopped_by = "patience"
                break
            if time.monotonic() - started > options.max_seconds:
                stopped_by = "max_seconds"
                break
        network.load_state_dict(best_state)
    return logits, epoch, best_epoch, stopped_by, time.monotonic() - started


def _bce(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean binary cross-entropy of logits t: y softplus(-t) + (1 - y) softplus(t)."""
    return float(
        np.mean(labels * np.logaddexp(0.0, -logits) + (1 - labels) * np.logaddexp(0.0, logits))
    )


def _platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(a >= 0, b) minimising the cross-entropy of sigmoid(a t + b) on (logits, labels)."""
    result = optimize.minimize(
        lambda ab: _bce(ab[0] * logits + ab[1], labels),
        x0=np.array([1.0, 0.0]),
        method="L-BFGS-B",
        bounds=[(0.0, None), (None, None)],  # a >= 0: calibration never flips the ranking
    )
    return float(result.x[0]), float(result.x[1])


def _js(logit_reference: np.ndarray, logit_candidate: np.ndarray) -> float:
    """ln 2 + 1/2 E_ref[ln D] + 1/2 E_cand[ln(1 - D)], D = sigmoid(t), clipped at 0 (nats)."""
    return js_from_value(gan_value(log_sigmoid(logit_reference), log_sigmoid(-logit_candidate)))
