"""The training configuration: one dataclass, read from a TOML file, overridden by flags.

Every setting of ``hepgan train`` is a field here, so a TOML file and the
command line give the same settings (flags win). The resolved configuration is
written to the run folder (``options.json``) and stored in the model card.

Example ``showers.toml``::

    data = ["showers.root"]
    tree = "showers"
    voxels = "voxels"
    condition = "incident_energy"
    out = "models/showers"
    max_minutes = 10
    [network]
    generator_hidden = [256, 256, 256]
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hepgan.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LOSS_NAMES = ("wgan-gp", "bce")  # the objectives of hepgan.training.losses
SELECTION_METRICS = ("ks", "separation_power")  # statistics the best checkpoint minimises
PAIR_VARIABLES = ("decay", "lab")  # the two-particle representations (event_pair_variables)

DEVICES = ("auto", "cpu", "cuda")
# Measured in 10-minute CPU runs (docs/quality.md): 3e-4 reached better showers than 1e-4;
# for dimuon events 1e-4 was steadier (best mean KS 0.014 against 0.025 with 3e-4).
DEFAULT_LEARNING_RATES = {"showers": 3e-4, "events": 1e-4}
PRECISIONS = ("auto", "bf16", "fp16", "off")


@dataclass
class NetworkSettings:
    """Sizes of the generator and critic (see hepgan.models.networks.GanConfig)."""

    latent_dim: int = 64  # width of the noise vector z
    generator_hidden: list[int] = field(default_factory=lambda: [256, 256, 256])
    critic_hidden: list[int] = field(default_factory=lambda: [256, 256, 256])


@dataclass
class TrainConfig:
    """All settings of one training run; defaults are the ones the quality figures use."""

    # --- data
    data: list[str] = field(default_factory=list)  # input files: ROOT or CaloChallenge HDF5
    tree: str | None = None  # TTree name (None: the file's only tree; ignored for HDF5)
    features: list[str] = field(default_factory=list)  # event features (exclusive with voxels)
    voxels: str | None = None  # the voxel branch of a shower file
    condition: str | None = None  # conditioning branch, e.g. incident_energy (MeV)
    geometry: str | None = None  # shower geometry preset; None: guessed from the voxel count
    max_events: int | None = None  # read at most this many events (None: all)
    # --- outputs
    out: str = ""  # the artefact folder
    run_dir: str | None = None  # checkpoints, history, plots (None: OUT/run)
    resume: bool = False  # continue from the last checkpoint in run_dir
    # --- split: reference (held out for reports), validation (checkpoint choice), train
    reference_fraction: float = 0.2
    reference_max_events: int = 50_000
    reference_max_bytes: int = 256 * 2**20  # caps the reference of wide showers (6480 voxels)
    validation_fraction: float = 0.1
    validation_max_events: int = 20_000
    # --- optimisation
    loss: str = "wgan-gp"  # "wgan-gp" (5 critic steps, lambda 10) or "bce" (non-saturating)
    seed: int = 0
    batch_size: int = 256  # global batch, split over DDP ranks
    n_critic: int = 5  # critic steps per generator step (1 for "bce")
    penalty_weight: float = 10.0  # lambda of the gradient penalty
    # Adam learning rates; None: the measured defaults of DEFAULT_LEARNING_RATES for the kind
    learning_rate_generator: float | None = None
    learning_rate_critic: float | None = None
    adam_betas: list[float] = field(default_factory=lambda: [0.5, 0.9])
    # learning rates fall linearly to this fraction of their value over the budget (the larger
    # of the fractions of max_steps and max_minutes used; 1: constant)
    learning_rate_final_fraction: float = 1.0
    epochs: float | None = None  # passes over the training split by the critic (None: no limit)
    max_steps: int | None = None  # generator steps (None: no limit)
    max_minutes: float | None = 10.0  # wall-clock budget of the training loop
    network: NetworkSettings = field(default_factory=NetworkSettings)
    # showers: learn the energy response (total / incident) as its own column and the voxels
    # as shares of the total (False: voxels as fractions of the incident energy)
    shower_energy_shares: bool = True
    # showers: empty voxels of the training data get energies u * threshold, u ~ U(0, 1), below
    # the readout threshold, which generation applies (no point mass at ln(eps); issue 12)
    shower_dequantise: bool = False
    # showers: hierarchical shares (within each layer, the layers' fractions, the response)
    # instead of each voxel's share of the whole shower (needs a geometry). Measured
    # (docs/quality.md): the high-level classifier's AUC fell from 0.889 to 0.864-0.880 (3 seeds)
    shower_layer_shares: bool = True
    # showers: y = ln(share + eps) with eps this quantile of the training data's non-zero shares
    # (= models.transforms.recipes.LOG_OFFSET_QUANTILE). Measured (docs/quality.md, 3 seeds):
    # 0.01 -> 0.05 took the AUC from 0.864-0.880 to 0.848-0.852 and the median separation power
    # from 0.015-0.017 to 0.008-0.010; 0.07 and 0.1 make the resolution 8-21 % too wide
    shower_log_offset_quantile: float = 0.05
    # showers: non-zero shares move up by this many eps, y = ln(share + eps + gap), so the
    # blur of the empty voxels' point up to ln(eps + gap) reads as empty, with nothing lost
    # (= recipes.GAP_FRACTION; 0: no gap). Measured (docs/quality.md, round 3, three seeds):
    # AUC 0.826-0.835 -> 0.808-0.815, median separation power 0.008-0.010 -> 0.007-0.008;
    # the resolution 2-7 % wide instead of 0-4 % narrow
    shower_gap_fraction: float = 2.0
    # showers with layer shares: each layer's shares and each layer's fraction get their own
    # eps (= recipes.LOG_OFFSET_PER_LAYER), instead of one for all shares and one for all
    # fractions. Measured (docs/quality.md, round 4, three seeds): 32 % -> 17 % empty last
    # layers (simulated 20 %), but AUC 0.808-0.824 against 0.808-0.815: a wash
    shower_log_offset_per_layer: bool = False
    # showers: generated shares below this fraction of eps are read as empty, losing the real
    # shares below it (= recipes.EMPTY_SHARE_FRACTION; 0: off). Measured without the gap: 0.5
    # took the largest separation power from 0.12-0.13 to 0.09, the AUC unchanged
    shower_empty_share_fraction: float = 0.0
    # showers: each generated shower is rotated or reflected by a random element of the
    # geometry's symmetry group (equal angular bins), at every generation: training's
    # validation, the card and the service. Measured (docs/quality.md, 3 seeds): AUC 0.848-0.852
    # -> 0.829-0.838. Turn off where the physics breaks the symmetry (a magnetic field)
    shower_random_symmetry: bool = True
    # events with two four-vectors (E1, px1, .., pz2): learn the pair mass, pT, rapidity, azimuth
    # and decay angles instead of the eight momenta (False: momenta, energies on the mass shell)
    event_pair_frame: bool = True
    # the pair frame's variables: "decay" (pair pT, rapidity, azimuth and the decay angles) or
    # "lab" (each particle's eta, the first one's pT and azimuth, their azimuth difference)
    event_pair_variables: str = "decay"
    # events with four-vectors: generated events outside the pT and |eta| range of the training
    # events' particles (the detector's acceptance) are redrawn. Measured (docs/quality.md):
    # with the decay variables 9-11 % of the dimuon events were redrawn and the energies' KS
    # doubled (the generator's events near the edge were missing, not only beyond it); with
    # the lab variables no event leaves the |eta| range, so nothing changed
    event_acceptance: bool = False
    # --- fidelity (issue 12; the ablation in docs/quality.md measured each)
    # showers: the critic also sees energies, softened centres and widths and a smooth
    # non-zero count per layer, the longitudinal centre of gravity and the response, computed
    # in the graph from its input; events with four-vectors: each particle's pT, eta and E.
    # Measured (docs/quality.md): showers stable since the softening but AUC 0.859 against
    # 0.815 without; for the dimuon model fewer steps and worse energies (max KS 0.07)
    critic_observables: bool = False
    # the critic sees the minibatch standard deviation over groups of this many samples (0: off)
    minibatch_std_group: int = 0
    # exponential moving average of the generator weights, used for validation, checkpoint
    # choice and the artefact (0: off, the raw weights). Measured (docs/quality.md): the
    # high-level classifier's AUC fell from 0.913 to 0.889 at the same 2,000 steps, the
    # dimuon seeds' AUC spread from 0.594-0.646 to 0.570-0.581
    ema_decay: float = 0.99
    # showers: random rotations and reflections of the equal angular bins of real and generated
    # batches, so the critic compares them up to the symmetry (needs shower_random_symmetry)
    symmetry_augmentation: bool = False
    # --- validation and checkpoints
    # the best checkpoint has the lowest mean over the observables of this statistic of the
    # validation events: "ks" (two-sample KS) or "separation_power" (the CaloChallenge's S)
    selection_metric: str = "ks"
    validate_every: int = 250  # generator steps between validations (and checkpoints)
    validation_events: int = 10_000  # generated events per validation
    # --- robustness
    divergence_threshold: float = 1e6  # |loss| above this counts as divergence, like NaN
    max_rollbacks: int = 3  # rollbacks to the last good checkpoint before giving up
    rollback_lr_factor: float = 0.5  # learning rates are multiplied by this at each rollback
    # --- hardware
    device: str = "auto"  # auto: cuda when available
    # autocast: "bf16" (any device), "fp16" (CUDA), "off"; "auto": bf16 on GPUs that support
    # it, else fp16; float32 on the CPU
    precision: str = "auto"
    compile: bool = False  # torch.compile the generator (inductor: needs a C++ compiler on CPUs)
    # CPU threads for torch. One is fastest for these small networks on a shared 2-core machine:
    # OpenMP threads spin-wait for each other while another process holds a core (the
    # measured steps per second: docs/benchmarks.md, Training).
    cpu_threads: int = 1
    progress: bool = True  # tqdm progress bar (off when stderr is not a terminal)
    plot_observables: int = 24  # real vs generated histograms at the end, worst KS first

    @property
    def kind(self) -> str:
        return "showers" if self.voxels else "events"

    @property
    def learning_rates(self) -> tuple[float, float]:
        """(generator, critic) Adam learning rates, the kind's default where not set."""
        default = DEFAULT_LEARNING_RATES[self.kind]
        return (
            default if self.learning_rate_generator is None else self.learning_rate_generator,
            default if self.learning_rate_critic is None else self.learning_rate_critic,
        )

    def validate(self) -> TrainConfig:
        """Check every setting; raises ConfigError naming the first bad one. Returns self."""
        if not self.data:
            raise ConfigError("--data: give at least one input file")
        if bool(self.features) == bool(self.voxels):
            raise ConfigError("give exactly one of --features and --voxels")
        if not self.out:
            raise ConfigError("--out: give the folder to write the model artefact to")
        if self.loss not in LOSS_NAMES:
            raise ConfigError(f"--loss must be one of {', '.join(LOSS_NAMES)}, got {self.loss!r}")
        if self.event_pair_variables not in PAIR_VARIABLES:
            raise ConfigError(
                f"event_pair_variables must be one of {', '.join(PAIR_VARIABLES)}, "
                f"got {self.event_pair_variables!r}"
            )
        if self.selection_metric not in SELECTION_METRICS:
            raise ConfigError(
                f"selection_metric must be one of {', '.join(SELECTION_METRICS)}, "
                f"got {self.selection_metric!r}"
            )
        if self.device not in DEVICES:
            raise ConfigError(f"--device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}")
        for name in (
            "batch_size",
            "n_critic",
            "validate_every",
            "validation_events",
            "cpu_threads",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_rate_generator", "learning_rate_critic"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or value <= 0):
                raise ConfigError(f"{name} must be a positive number, got {value!r}")
        for name in ("epochs", "max_minutes", "max_steps", "max_events"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be > 0, got {value}")
        if not 0.0 < self.learning_rate_final_fraction <= 1.0:
            raise ConfigError(
                "learning_rate_final_fraction must be in (0, 1], "
                f"got {self.learning_rate_final_fraction}"
            )
        if not 0.0 < self.shower_log_offset_quantile < 1.0:
            raise ConfigError(
                "shower_log_offset_quantile must be in (0, 1), "
                f"got {self.shower_log_offset_quantile}"
            )
        if self.shower_gap_fraction < 0:
            raise ConfigError(f"shower_gap_fraction must be >= 0, got {self.shower_gap_fraction}")
        if not 0.0 <= self.shower_empty_share_fraction <= 1.0:
            raise ConfigError(
                "shower_empty_share_fraction must be in [0, 1], "
                f"got {self.shower_empty_share_fraction}"
            )
        if self.symmetry_augmentation and not self.shower_random_symmetry:
            raise ConfigError(
                "symmetry_augmentation trains the generator up to the symmetry, which only "
                "shower_random_symmetry restores at generation: keep it true"
            )
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.minibatch_std_group < 0:
            raise ConfigError(f"minibatch_std_group must be >= 0, got {self.minibatch_std_group}")
        for name in ("reference_fraction", "validation_fraction"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name} must be between 0 and 1")
        if self.reference_fraction + self.validation_fraction >= 0.9:
            raise ConfigError("reference_fraction + validation_fraction leave too little to train")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def run_folder(self) -> Path:
        """Where the run's history, plots and checkpoints go: ``--run-dir``, else ``OUT/run``."""
        from hepgan.models.artefact import RUN_FOLDER

        return Path(self.run_dir) if self.run_dir else Path(self.out) / RUN_FOLDER


def read_toml(path: str | Path) -> dict[str, Any]:
    """The settings in a TOML file; raises ConfigError naming the file on a syntax error."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"--config: file {path} not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"--config: {path} is not valid TOML: {error}") from None


def build_config(
    file_values: dict[str, Any] | None = None, flag_values: dict[str, Any] | None = None
) -> TrainConfig:
    """Defaults, then the file's values, then the flags given (None means not given)."""
    merged: dict[str, Any] = {}
    for source in (
        file_values or {},
        {k: v for k, v in (flag_values or {}).items() if v is not None},
    ):
        for key, value in source.items():
            if key == "network" and isinstance(value, dict):
                merged.setdefault("network", {}).update(value)
            else:
                merged[key] = value
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    network = merged.pop("network", {})
    network_fields = {f.name for f in dataclasses.fields(NetworkSettings)}
    if not isinstance(network, dict) or set(network) - network_fields:
        raise ConfigError(f"[network] accepts only {', '.join(sorted(network_fields))}")
    for key in ("data", "features"):
        if isinstance(merged.get(key), str):
            merged[key] = [item for item in merged[key].split(",") if item]
    try:
        config = TrainConfig(**merged, network=NetworkSettings(**network))
    except TypeError as error:
        raise ConfigError(f"bad setting: {error}") from None
    _check_types(config)
    return config


def _check_types(config: TrainConfig) -> None:
    """Every field holds a value of its declared type (TOML makes typos like "10" easy)."""
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        value, default = getattr(config, f.name), getattr(defaults, f.name)
        if value is None or default is None or f.name == "network":
            continue
        expected = float if isinstance(default, float) else type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            setattr(config, f.name, float(value))
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"setting {f.name} must be {expected.__name__}, got {value!r}")
