"""The strong judge: a CaloChallenge-style high-level classifier two-sample test.

As in the CaloChallenge 2022 evaluation (arXiv:2410.21611, "high-level" classifier):
a network with three hidden layers of 2,048 units (LeakyReLU, slope 0.01) tells
reference (label 1) from candidate (label 0) events. Inputs for showers: log10 of the
energy per layer (MeV, + 1e-8), per-layer centres of energy and widths in x and y
(mm / 100) and log10 of the incident energy (GeV); for events the features. Every input
column is standardised with the training split's mean and width.

The (balanced) events are split into train / validation / test (60 / 20 / 20). Adam
(learning rate 2e-4, batches of 1,000, as the CaloChallenge) minimises the binary
cross-entropy for up to 50 epochs. After each epoch the validation loss and accuracy are
measured; the weights of the best epoch are kept (lowest loss, or highest accuracy as the
CaloChallenge keeps). Training stops early only when the best epoch is ``patience``
epochs old (the judge has converged), or at a wall-clock cap if one is set; the result
says which (``stopped_by``), with the epochs run and the validation history, so a judge
stopped early can never pass for a converged one. The ROC AUC is measured on the test
split.

Calibration, fitted on the validation split, turns the network's logit t into an
estimate of D(x) = p_ref / (p_ref + p_cand):
- Platt scaling, D = sigmoid(a t + b), (a >= 0, b) minimising the cross-entropy; it does
  not change the AUC;
- isotonic regression of the labels on sigmoid(t) (the CaloChallenge's), a monotone step
  function clipped to [1e-6, 1 - 1e-6]; its ties can lower the AUC a little, which the
  CaloChallenge reports ("rescaled AUC") and so do we (``auc_isotonic``).
The GAN value of the calibrated D on the test split gives the JS divergence
(V(G, D*) = 2 JS - 2 ln 2, :mod:`hepgan.validation.judges.gan_theory`), in nats:

    JS = ln 2 + 1/2 E_ref[ln D] + 1/2 E_cand[ln(1 - D)]   (clipped at 0)

An over-confident uncalibrated network gives a negative value for two equal samples;
calibrated, it gives about 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from hepgan.validation.judges.classifier import (
    as_rows,
    log_sigmoid,
    paired_samples,
    roc_auc,
    train_one_epoch,
)
from hepgan.validation.judges.gan_theory import gan_value, js_from_value
from hepgan.validation.report.schema import ClassifierScore

LOG_ENERGY_FLOOR_MEV = 1e-8  # added before log10 so empty layers stay finite (CaloChallenge)
MM_PER_UNIT = 100.0  # centres and widths enter as mm / 100 (CaloChallenge)


KEEP_BY = ("loss", "accuracy")  # what the kept epoch is best at, on the validation split


@dataclass(frozen=True)
class HighLevelClassifierOptions:
    """Settings of the judge. The defaults train to convergence (up to 50 epochs, stopped
    when 10 epochs in a row did not lower the validation loss); :meth:`calochallenge` is the
    public protocol (all 50 epochs, the best validation accuracy kept)."""

    hidden: int = 2048  # width of each hidden layer
    hidden_layers: int = 3  # the CaloChallenge's evaluate.py: 3 layers of 2,048
    negative_slope: float = 0.01  # LeakyReLU (torch's default, as the CaloChallenge)
    learning_rate: float = 2e-4  # Adam, as the CaloChallenge
    batch_size: int = 1000
    max_epochs: int = 50
    # stop when the kept epoch is this many epochs old (None: run all max_epochs)
    patience: int | None = 10
    keep: str = "loss"  # the epoch kept: lowest validation "loss" or highest "accuracy"
    max_seconds: float | None = None  # a wall-clock cap (None: none); stopped_by reports it
    validation_fraction: float = 0.2
    test_fraction: float = 0.2
    max_events_per_class: int = 50_000  # each sample is subsampled to at most this many

    def __post_init__(self) -> None:
        if self.keep not in KEEP_BY:
            raise ValueError(f"keep must be one of {', '.join(KEEP_BY)}, got {self.keep!r}")
        if self.max_epochs < 1 or self.hidden_layers < 1 or self.hidden < 1:
            raise ValueError("max_epochs, hidden_layers and hidden must be >= 1")

    @classmethod
    def calochallenge(cls, **changes: object) -> HighLevelClassifierOptions:
        """The CaloChallenge's evaluate.py protocol: 50 epochs without early stopping, the
        epoch of the best validation accuracy kept (float32 here, float64 there)."""
        return cls(**{"patience": None, "keep": "accuracy", **changes})


@dataclass(frozen=True)
class HighLevelClassifierResult:
    """What the judge measured; ``score()`` gives the report's ClassifierScore."""

    auc: float  # ROC AUC on the test split (of the network's logits)
    js_nats: float  # JS from the Platt-calibrated D on the test split, nats
    js_uncalibrated_nats: float  # the same from the raw network output
    calibration: tuple[float, float]  # Platt (a, b): D = sigmoid(a t + b)
    auc_isotonic: float  # ROC AUC of the isotonic-calibrated D (the CaloChallenge's figure)
    js_isotonic_nats: float  # JS from the isotonic-calibrated D, nats
    epochs: int  # epochs trained
    best_epoch: int  # 1-based epoch whose weights were kept
    stopped_by: str  # "patience" (converged), "max_epochs" or "max_seconds" (the cap)
    keep: str  # the kept epoch had the best validation "loss" or "accuracy"
    max_seconds: float | None  # the wall-clock cap it ran under (None: none)
    # (validation loss, validation accuracy) after each epoch
    history: list[tuple[float, float]]
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
            epochs=self.epochs,
            best_epoch=self.best_epoch,
            stopped_by=self.stopped_by,
            max_seconds=self.max_seconds,
        )

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


# The judge's shower input groups, per layer; the incident energy is always an input.
SHOWER_INPUT_GROUPS = ("energies", "centres", "widths", "hits")
CALOCHALLENGE_INPUT_GROUPS = ("energies", "centres", "widths")  # evaluate.py's "cls-high"
_GROUP_PREFIXES = {
    "energies": ("e_layer",),
    "centres": ("centre_x_layer", "centre_y_layer"),
    "widths": ("width_x_layer", "width_y_layer"),
    "hits": ("n_hits_layer",),
}


def shower_high_level_features(
    observables: Mapping[str, np.ndarray],
    incident_energy_mev: np.ndarray,
    groups: Sequence[str] = SHOWER_INPUT_GROUPS,
) -> np.ndarray:
    """(N, k L + 1) judge inputs from the shower observables
    (:func:`~hepgan.validation.report.observables.shower_observables`), per layer for each of
    ``groups``: "energies" log10(E_layer / MeV + 1e-8); "centres"
    centre_x, centre_y and "widths" width_x, width_y (mm / 100); "hits" the number of hit
    voxels; then log10(E_inc / GeV). :data:`CALOCHALLENGE_INPUT_GROUPS` are the
    CaloChallenge's inputs; the hit counts are ours, since the sparsity of deep layers is
    what separates GAN showers most (docs/quality.md)."""
    unknown = sorted(set(groups) - set(SHOWER_INPUT_GROUPS))
    if unknown or not groups:
        raise ValueError(f"input groups must be among {', '.join(SHOWER_INPUT_GROUPS)}")
    layers = sorted(name for name in observables if name.startswith("e_layer_"))
    if not layers:
        raise ValueError("no e_layer_* observables: these are not shower observables")
    columns = []
    for group in SHOWER_INPUT_GROUPS:
        if group not in groups:
            continue
        for prefix in _GROUP_PREFIXES[group]:
            for name in layers:
                values = np.asarray(observables[name.replace("e_layer", prefix)], np.float64)
                if group == "energies":
                    values = np.log10(values + LOG_ENERGY_FLOOR_MEV)
                elif group in ("centres", "widths"):
                    values = values / MM_PER_UNIT
                columns.append(values)
    columns.append(np.log10(np.asarray(incident_energy_mev, np.float64).reshape(-1) / 1000.0))
    return np.column_stack(columns)


def classifier_inputs(
    observables: Mapping[str, np.ndarray],
    incident_energy_mev: np.ndarray | None = None,
    groups: Sequence[str] = SHOWER_INPUT_GROUPS,
) -> np.ndarray:
    """The judge's inputs (N, K) for one sample: for showers (shower observables and their
    incident energies, MeV) :func:`shower_high_level_features` of ``groups``; for events
    every per-event observable (features and derived quantities such as a pair mass)."""
    if incident_energy_mev is not None and "e_layer_00" in observables:
        return shower_high_level_features(observables, incident_energy_mev, groups)
    names = [name for name, values in observables.items() if np.ndim(values) == 1]
    return np.stack([np.asarray(observables[name], np.float64) for name in names], axis=1)


def train_judge(
    candidate: np.ndarray,
    reference: np.ndarray,
    *,
    options: HighLevelClassifierOptions | None = None,
    seed: int = 0,
    device: str = "cpu",
) -> Callable[[np.ndarray], np.ndarray]:
    """The judge's network trained as :func:`high_level_classifier_test` trains it, as a
    function of inputs (k, F) in the samples' units -> logits t (k,) of
    D = sigmoid(t) = P(reference | x): for tests of the GAN identity on held-out events."""
    options = options or HighLevelClassifierOptions()
    scaled, (mean, width) = _standardised_splits(candidate, reference, options, seed)
    run = _train(scaled, options, seed, device)
    return lambda events: run.logits(((as_rows(events) - mean) / width).astype(np.float32))


def _standardised_splits(
    candidate: np.ndarray,
    reference: np.ndarray,
    options: HighLevelClassifierOptions,
    seed: int,
):
    """(splits, (mean, width)): equal numbers of events per class (at most
    ``max_events_per_class``), split into test / validation / train (x (n, F) float32
    standardised by the training split's mean and width, labels y: 1 reference, 0
    candidate), and that mean and width (F,)."""
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
    return scaled, (mean, width)


def high_level_classifier_test(
    candidate: np.ndarray,
    reference: np.ndarray,
    *,
    options: HighLevelClassifierOptions | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: Callable[[int, float], None] | None = None,
) -> HighLevelClassifierResult:
    """Train the judge on candidate (n, F) vs reference (m, F) inputs; AUC and calibrated JS
    on the held-out test split. Deterministic for a seed (on the CPU). ``progress``, when
    given, is called after each epoch with (epoch, validation BCE in nats)."""
    options = options or HighLevelClassifierOptions()
    scaled, _ = _standardised_splits(candidate, reference, options, seed)
    run = _train(scaled, options, seed, device, progress)
    validation_logits = run.logits(scaled["validation"][0])
    a, b = _platt(validation_logits, scaled["validation"][1])
    isotonic = _isotonic(validation_logits, scaled["validation"][1])
    test_x, test_y = scaled["test"]
    test_logits = run.logits(test_x)
    positive, negative = test_y == 1, test_y == 0
    calibrated = isotonic(test_logits)  # (n_test,) D in [1e-6, 1 - 1e-6]
    return HighLevelClassifierResult(
        auc=roc_auc(test_logits[positive], test_logits[negative]),
        js_nats=_js(a * test_logits[positive] + b, a * test_logits[negative] + b),
        js_uncalibrated_nats=_js(test_logits[positive], test_logits[negative]),
        calibration=(a, b),
        auc_isotonic=roc_auc(calibrated[positive], calibrated[negative]),
        js_isotonic_nats=js_from_value(
            gan_value(np.log(calibrated[positive]), np.log1p(-calibrated[negative]))
        ),
        epochs=run.epochs,
        best_epoch=run.best_epoch,
        stopped_by=run.stopped_by,
        keep=options.keep,
        max_seconds=options.max_seconds,
        history=run.history,
        wall_seconds=round(run.wall_seconds, 2),
        n_train=len(scaled["train"][1]),
        n_validation=len(scaled["validation"][1]),
        n_test=len(test_y),
        n_features=candidate.shape[1],
        seed=seed,
    )


@dataclass
class _Run:
    """A trained judge: its logit function and how the training went."""

    logits: Callable[[np.ndarray], np.ndarray]  # (N, F) scaled inputs -> (N,) logits
    epochs: int
    best_epoch: int
    stopped_by: str
    history: list[tuple[float, float]]  # (validation loss, accuracy) per epoch
    wall_seconds: float


def _network(width: int, options: HighLevelClassifierOptions):
    """Linear -> LeakyReLU blocks: ``hidden_layers`` of ``hidden`` units, then one logit."""
    import torch

    layers: list = []
    for _ in range(options.hidden_layers):
        layers += [
            torch.nn.Linear(width, options.hidden),
            torch.nn.LeakyReLU(options.negative_slope),
        ]
        width = options.hidden
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))


def _train(
    scaled: dict,
    options: HighLevelClassifierOptions,
    seed: int,
    device: str,
    progress: Callable[[int, float], None] | None = None,
) -> _Run:
    """Adam on the BCE; after each epoch the validation loss and accuracy; the best epoch's
    weights (by ``options.keep``); stops at ``patience``, ``max_epochs`` or ``max_seconds``."""
    import torch

    started = time.monotonic()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = _network(scaled["train"][0].shape[1], options).to(device)
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

        validation_x, validation_y = scaled["validation"]
        history: list[tuple[float, float]] = []
        best_score, best_epoch, best_state = -np.inf, 0, None
        stopped_by, epoch = "max_epochs", 0
        for epoch in range(1, options.max_epochs + 1):
            train_one_epoch(network, optimiser, x, y, options.batch_size, order_source)
            validation_logits = logits(validation_x)
            loss = _bce(validation_logits, validation_y)
            accuracy = float(np.mean((validation_logits > 0) == (validation_y == 1)))
            history.append((round(loss, 6), round(accuracy, 6)))
            if progress is not None:
                progress(epoch, loss)
            score = -loss if options.keep == "loss" else accuracy
            if score > best_score:
                best_score, best_epoch = score, epoch
                best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
            if options.patience is not None and epoch - best_epoch >= options.patience:
                stopped_by = "patience"
                break
            if options.max_seconds is not None and time.monotonic() - started > options.max_seconds:
                stopped_by = "max_seconds"
                break
        network.load_state_dict(best_state)
    return _Run(logits, epoch, best_epoch, stopped_by, history, time.monotonic() - started)


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


def _isotonic(logits: np.ndarray, labels: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Isotonic regression of ``labels`` on p = sigmoid(``logits``), as a function of logits:
    the monotone fit at the sorted validation p, linear in between, constant beyond, clipped
    to [1e-6, 1 - 1e-6] so ln D stays finite."""
    p = special.expit(logits)
    order = np.argsort(p, kind="stable")
    fitted = optimize.isotonic_regression(labels[order]).x
    knots, first = np.unique(p[order], return_index=True)
    # equal p values share one fitted value: the mean over their block
    sums = np.add.reduceat(fitted, first)
    counts = np.diff(np.append(first, len(fitted)))
    values = np.clip(sums / counts, 1e-6, 1 - 1e-6)
    return lambda t: np.interp(special.expit(t), knots, values)


def _js(logit_reference: np.ndarray, logit_candidate: np.ndarray) -> float:
    """ln 2 + 1/2 E_ref[ln D] + 1/2 E_cand[ln(1 - D)], D = sigmoid(t), clipped at 0 (nats)."""
    return js_from_value(gan_value(log_sigmoid(logit_reference), log_sigmoid(-logit_candidate)))
