"""Request and response bodies of the HTTP API (pydantic models, shown in /docs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictFloat,
    Tag,
    field_validator,
    model_validator,
)

OutputFormat = Literal["json", "root", "npz", "arrow", "npy"]
# Earlier name of "npz" (the format has always been an .npz archive), still accepted.
FORMAT_ALIASES: dict[str, str] = {"npy": "npz"}


class ConditionRange(BaseModel):
    """Draw each event's condition from [min, max] (uniform, or uniform in log). With no
    ``distribution``, :func:`hepgan.models.conditions.range_distribution` decides, as for
    ``hepgan generate``: log-uniform when min > 0, else uniform."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    low: StrictFloat = Field(alias="min", description="lower edge, in the condition's unit")
    high: StrictFloat = Field(alias="max", description="upper edge, in the condition's unit")
    distribution: Literal["uniform", "log-uniform"] | None = Field(
        default=None,
        description="uniform or log-uniform; left out: log-uniform when min > 0, else uniform",
    )

    @model_validator(mode="after")
    def _ordered_and_positive(self) -> ConditionRange:
        if self.low > self.high:
            raise ValueError(f"min ({self.low}) must not exceed max ({self.high})")
        if self.distribution == "log-uniform" and self.low <= 0:
            raise ValueError(f"log-uniform needs min > 0, got {self.low}")
        return self


def _condition_kind(value: Any) -> str:
    """Which of the three forms a condition is, so an error names that form only."""
    if isinstance(value, dict | ConditionRange):
        return "range"
    return "per-event" if isinstance(value, list) else "value"


# Numbers are strict (a JSON string such as "5000" is refused, as for n_events and seed), and
# a per-event list stops at its first bad item: a million bad items give one error, not a
# million (the body limit allows that many).
ConditionSpec = Annotated[
    Annotated[StrictFloat, Tag("value")]
    | Annotated[list[StrictFloat], Field(fail_fast=True), Tag("per-event")]
    | Annotated[ConditionRange, Tag("range")],
    Discriminator(_condition_kind),
]

GENERATE_EXAMPLES: dict[str, dict[str, Any]] = {
    "json": {
        "summary": "JSON, one incident energy for all events",
        "value": {"n_events": 10, "conditions": {"incident_energy": 10000.0}, "seed": 1},
    },
    "npz": {
        "summary": "NumPy npz, energies drawn log-uniformly (read with numpy.load)",
        "value": {
            "n_events": 10000,
            "conditions": {
                "incident_energy": {"min": 2000, "max": 50000, "distribution": "log-uniform"}
            },
            "seed": 7,
            "format": "npz",
        },
    },
    "root": {
        "summary": "ROOT file, one energy per event (read with uproot; report in key 'report')",
        "value": {
            "n_events": 3,
            "conditions": {"incident_energy": [2000.0, 20000.0, 50000.0]},
            "format": "root",
        },
    },
    "arrow": {
        "summary": "Arrow IPC stream, no report (report in the schema metadata otherwise)",
        "value": {"n_events": 100000, "format": "arrow", "validate": False},
    },
}


class GenerateRequest(BaseModel):
    """What to generate, and how to send it back."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [example["value"] for example in GENERATE_EXAMPLES.values()]
        },
    )

    n_events: int = Field(strict=True, gt=0, description="number of events to generate")
    conditions: dict[str, ConditionSpec] = Field(
        default_factory=dict,
        description=(
            "per condition name: one value for all events, one value per event, or "
            '{"min", "max", "distribution"}; a condition left out is drawn from the '
            "reference sample's conditions"
        ),
    )
    seed: int | None = Field(
        None, strict=True, ge=0, lt=2**63, description="same seed, same events"
    )
    format: OutputFormat = Field(
        "json", description='"json", "root", "npz", "arrow"; "npy" is an alias of "npz"'
    )
    run_validation: bool = Field(
        True,
        strict=True,
        alias="validate",
        description="attach the validation report of this batch against the reference",
    )
    extrapolate: bool = Field(
        False,
        strict=True,
        description="allow conditions outside the training range (the report flags it)",
    )
    histograms: bool = Field(
        False,
        strict=True,
        description="put in the report, per observable, the binned samples its JS and "
        "separation power were computed on (edges, reference and candidate counts) and the "
        "display histograms the web page draws (densities, errors and ratio)",
    )

    @field_validator("format")
    @classmethod
    def _canonical_format(cls, value: str) -> str:
        """The format's proper name: an alias ("npy") becomes the format it names ("npz")."""
        return FORMAT_ALIASES.get(value, value)


class BatchHeader(BaseModel):
    """Everything about a generated batch except its events; every format carries it."""

    model: str
    n_events: int
    seed: int | None
    feature_names: list[str]
    feature_units: list[str]
    condition_names: list[str]
    condition_units: list[str]
    report: dict[str, Any] | None = Field(description="validation report; null if not asked")

    def meta(self) -> dict[str, Any]:
        """The header without the report."""
        return self.model_dump(exclude={"report"})


class GeneratedEvents(BatchHeader):
    """The JSON format's body (binary formats carry the same content, see /docs)."""

    features: list[list[float]] = Field(description="(n_events, n_features)")
    conditions: list[list[float]] = Field(description="(n_events, n_conditions)")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    ready: bool = Field(description="every loadable model is loaded and warmed up")
    loading: bool
    models: list[str] = Field(description="models loaded and warmed up")
    broken: dict[str, str] = Field(description="artefact folder -> why it could not be served")


class ModelSummary(BaseModel):
    name: str
    kind: str
    feature_names: list[str]
    feature_units: list[str]
    condition_names: list[str]
    condition_units: list[str]
    condition_ranges: dict[str, list[float]] = Field(description="name -> [low, high] in training")


class ModelList(BaseModel):
    models: list[ModelSummary]
    broken: dict[str, str]


class ModelDetail(BaseModel):
    name: str
    card: dict[str, Any] = Field(
        description="the artefact's model.json card, without paths, the training configuration "
        "and library versions other than hepgan's"
    )


class LossPoint(BaseModel):
    step: int = Field(description="generator step")
    losses: dict[str, float] = Field(description="loss term name -> value at this step")


class ValidationPoint(BaseModel):
    step: int = Field(description="generator step")
    metric: float = Field(description="the selection metric (lower is better)")


class TrainingHistory(BaseModel):
    """A model's training history from its run folder, when the artefact has one."""

    available: bool = Field(description="false when the artefact has no run/metrics.jsonl")
    message: str = Field(description="what is shown, or why nothing is")
    selection_metric: str = Field(description="how the served checkpoint was chosen")
    best_step: int | None = Field(description="generator step of the served checkpoint")
    losses: list[LossPoint] = Field(default_factory=list)
    validations: list[ValidationPoint] = Field(default_factory=list)
