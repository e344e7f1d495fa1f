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
    [shower]
    gap_fraction = 2.0
"""

from __future__ import annotations

import dataclasses
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hepgan.errors import ConfigError
from hepgan.models.transforms.settings import EventTransformSettings, ShowerTransformSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LOSS_NAMES = ("wgan-gp", "bce")  # the objectives of hepgan.training.losses
SELECTION_METRICS = ("ks", "separation_power")  # statistics the best checkpoint minimises

DEVICES = ("auto", "cpu", "cuda")
# Adam learning rates of each kind where not set (docs/quality.md: why the defaults are these)
DEFAULT_LEARNING_RATES = {"showers": 3e-4, "events": 1e-4}
PRECISIONS = ("auto", "bf16", "fp16", "off")


@dataclass
class NetworkSettings:
    """Sizes of the generator and critic (see hepgan.models.networks.GanConfig)."""

    latent_dim: int = 64  # width of the noise vector z
    generator_hidden: list[int] = field(default_factory=lambda: [256, 256, 256])
    critic_hidden: list[int] = field(default_factory=lambda: [256, 256, 256])
    # showers (needs layer shares; ignored for events): a first network generates the layer
    # fractions, the response and which layers are empty from the incident energy, a second one
    # the shares within the layers given those; the critic gets a branch on the first stage's
    # columns (hepgan.models.transforms.stages; docs/quality.md: the ablation)
    two_stage: bool = True
    stage_one_hidden: list[int] = field(default_factory=lambda: [128, 128])  # both stage-one nets


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
    description: str = ""  # the model card's description ("": "<loss> GAN trained on <files>")
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
    # [shower] and [events]: the transforms' settings (hepgan.models.transforms.settings)
    shower: ShowerTransformSettings = field(default_factory=ShowerTransformSettings)
    events: EventTransformSettings = field(default_factory=EventTransformSettings)
    # --- what the critic sees and how the generator is averaged
    # showers: the critic also sees energies, softened centres and widths and a smooth
    # non-zero count per layer, the longitudinal centre of gravity and the response, computed
    # in the graph from its input; events with four-vectors: each particle's pT, eta and E
    critic_observables: bool = False
    # the critic sees the minibatch standard deviation over groups of this many samples (0: off)
    minibatch_std_group: int = 0
    # exponential moving average of the generator weights, used for validation, checkpoint
    # choice and the artefact (0: off, the raw weights)
    ema_decay: float = 0.99
    # showers: random rotations and reflections of the equal angular bins of real and generated
    # batches, so the critic compares them up to the symmetry (needs shower.random_symmetry)
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
    # CPU threads for torch (OpenMP threads spin-wait for each other while another process
    # holds a core, so one is fastest for small networks on a shared machine)
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
        self.shower.validate()
        self.events.validate()
        if self.symmetry_augmentation and not self.shower.random_symmetry:
            raise ConfigError(
                "symmetry_augmentation trains the generator up to the symmetry, which only "
                "shower.random_symmetry restores at generation: keep it true"
            )
        self._check_two_stage()
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

    def _check_two_stage(self) -> None:
        """network.two_stage (showers only) needs layer shares, and the plain critic, the one
        with the first stage's branch."""
        if not (self.kind == "showers" and self.network.two_stage):
            return
        if not (self.shower.energy_shares and self.shower.layer_shares):
            raise ConfigError(
                "network.two_stage generates the layer fractions first: it needs [shower] "
                "energy_shares and layer_shares true (or set network.two_stage = false)"
            )
        if self.critic_observables or self.minibatch_std_group:
            raise ConfigError(
                "network.two_stage gives the plain critic a branch on the first stage's "
                "columns; critic_observables and minibatch_std_group do not have it yet: set "
                "them off or network.two_stage = false"
            )

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


# The flat names the transform settings had before the [shower] and [events] tables; still
# read, with a FutureWarning, for one release (old TOML files and stored configurations).
DEPRECATED_FLAT_KEYS = {
    "shower_energy_shares": ("shower", "energy_shares"),
    "shower_dequantise": ("shower", "dequantise"),
    "shower_layer_shares": ("shower", "layer_shares"),
    "shower_log_offset_quantile": ("shower", "log_offset_quantile"),
    "shower_gap_fraction": ("shower", "gap_fraction"),
    "shower_log_offset_per_layer": ("shower", "log_offset_per_layer"),
    "shower_empty_share_fraction": ("shower", "empty_share_fraction"),
    "shower_random_symmetry": ("shower", "random_symmetry"),
    "event_pair_frame": ("events", "pair_frame"),
    "event_pair_variables": ("events", "pair_variables"),
    "event_acceptance": ("events", "acceptance"),
}


def _tables() -> dict[str, type]:
    """The TOML tables of :class:`TrainConfig`: its fields holding a settings dataclass."""
    return {
        f.name: f.default_factory
        for f in dataclasses.fields(TrainConfig)
        if dataclasses.is_dataclass(f.default_factory)
    }


def _nest_flat_keys(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each deprecated flat key moved into its table (a FutureWarning each);
    a setting given both ways is a ConfigError."""
    values = dict(values)
    for old in [key for key in values if key in DEPRECATED_FLAT_KEYS]:
        table, name = DEPRECATED_FLAT_KEYS[old]
        warnings.warn(
            f"setting {old} is deprecated and will be removed in the next release: "
            f"write {name} = ... in the [{table}] table",
            FutureWarning,
            stacklevel=3,
        )
        nested = dict(values.get(table) or {})
        if name in nested:
            raise ConfigError(f"{old} and {table}.{name} are the same setting: give it once")
        nested[name] = values.pop(old)
        values[table] = nested
    return values


def build_config(
    file_values: dict[str, Any] | None = None, flag_values: dict[str, Any] | None = None
) -> TrainConfig:
    """Defaults, then the file's values, then the flags given (None means not given).

    Tables (``[network]``, ``[shower]``, ``[events]``) merge key by key; the deprecated flat
    names of the transform settings (:data:`DEPRECATED_FLAT_KEYS`) are read into their tables.
    """
    tables = _tables()
    merged: dict[str, Any] = {}
    for source in (
        file_values or {},
        {k: v for k, v in (flag_values or {}).items() if v is not None},
    ):
        for key, value in _nest_flat_keys(source).items():
            if key in tables and isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged[key] = value
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    for key in ("data", "features"):
        if isinstance(merged.get(key), str):
            merged[key] = [item for item in merged[key].split(",") if item]
    try:
        for name, settings_class in tables.items():
            merged[name] = settings_class(**_table(name, settings_class, merged.pop(name, {})))
        config = TrainConfig(**merged)
    except TypeError as error:
        raise ConfigError(f"bad setting: {error}") from None
    _check_types(config, TrainConfig())
    return config


def _table(name: str, settings_class: type, values: Any) -> dict[str, Any]:
    """The keys of table ``[name]``; raises ConfigError for a key it does not have."""
    names = {f.name for f in dataclasses.fields(settings_class)}
    if not isinstance(values, dict) or set(values) - names:
        raise ConfigError(f"[{name}] accepts only {', '.join(sorted(names))}")
    return values


def _check_types(settings: Any, defaults: Any, prefix: str = "") -> None:
    """Every field of ``settings`` (a settings dataclass) holds a value of the type of its
    default in ``defaults``, tables field by field (TOML makes typos like "10" easy); an int
    given for a float field becomes that float."""
    for f in dataclasses.fields(settings):
        value, default = getattr(settings, f.name), getattr(defaults, f.name)
        if dataclasses.is_dataclass(default):
            _check_types(value, default, prefix=f"{prefix}{f.name}.")
            continue
        if value is None or default is None:
            continue
        expected = float if isinstance(default, float) else type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            setattr(settings, f.name, float(value))
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"setting {prefix}{f.name} must be {expected.__name__}, got {value!r}"
            )
