"""Forecast policy (``forecast.yaml``): stage probabilities, staffing plan, capacity, FP&A mapping.

Loaded on its own, beside the main policy files: :func:`load_forecast_policy` reads
``forecast.yaml`` from the policy directory (falling back to the built-in default when the
directory has none, so a data directory copied before this file existed keeps working) and
raises :class:`ForecastPolicyInvalid` listing every problem as ``file: field: message``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pshub.domain.forecast import StageProbabilities
from pshub.domain.money import to_decimal
from pshub.policy.loader import DEFAULT_POLICY_DIR, PolicyError

FILE = "forecast.yaml"
_STRICT = ConfigDict(extra="forbid", frozen=True)


def _hours(value: Any, field: str) -> Decimal:
    hours = to_decimal(value, field)
    if hours < 0:
        raise ValueError(f"{field} must not be negative")
    return hours


class PipelineRules(BaseModel):
    model_config = _STRICT
    start_lag_days: int = Field(14, ge=0, le=365)
    default_duration_months: int = Field(6, ge=1, le=120)


class RoleHours(BaseModel):
    model_config = _STRICT
    role: str = Field(min_length=1)
    hours: Decimal

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Decimal:
        return _hours(value, "hours")


class StaffingPlan(BaseModel):
    """Stand-in for PSA resource assignments: hours per role and week on each T&M contract."""

    model_config = _STRICT
    weeks_per_month: Decimal = Decimal("4.33")
    weekly_hours: tuple[RoleHours, ...] = ()

    @field_validator("weeks_per_month", mode="before")
    @classmethod
    def _weeks(cls, value: Any) -> Decimal:
        weeks = to_decimal(value, "weeks_per_month")
        if not 0 < weeks <= 6:
            raise ValueError("weeks_per_month must be above 0 and at most 6")
        return weeks


class CapacityRules(BaseModel):
    model_config = _STRICT
    monthly_hours: Decimal = Decimal(140)

    @field_validator("monthly_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Decimal:
        return _hours(value, "monthly_hours")


class AnaplanMapping(BaseModel):
    model_config = _STRICT
    categories: dict[str, str] = {
        "actual": "Recognised Revenue",
        "backlog": "Backlog",
        "pipeline": "Forecast Revenue",
    }

    @field_validator("categories")
    @classmethod
    def _all_categories(cls, value: dict[str, str]) -> dict[str, str]:
        missing = {"actual", "backlog", "pipeline"} - value.keys()
        if missing:
            raise ValueError(f"a list item is needed for {sorted(missing)}")
        extra = value.keys() - {"actual", "backlog", "pipeline"}
        if extra:
            raise ValueError(f"unknown forecast categories {sorted(extra)}")
        return value


class ForecastPolicy(BaseModel):
    """The validated content of ``forecast.yaml``."""

    model_config = _STRICT
    horizon_months: int = Field(18, ge=1, le=60)
    stage_probabilities: dict[str, Decimal] = {}
    pipeline: PipelineRules = PipelineRules()
    staffing_plan: StaffingPlan = StaffingPlan()
    capacity: CapacityRules = CapacityRules()
    anaplan: AnaplanMapping = AnaplanMapping()

    @field_validator("stage_probabilities", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for stage, raw in value.items():
            percent = to_decimal(raw, f"stage_probabilities.{stage}")
            if not 0 <= percent <= 100:
                raise ValueError(f"{stage}: probability must be between 0 and 100 (percent)")
            out[str(stage)] = percent
        return out

    def probabilities(self) -> StageProbabilities:
        return StageProbabilities(percent_by_stage=dict(self.stage_probabilities))


class ForecastPolicyInvalid(ValueError):
    def __init__(self, errors: list[PolicyError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def check_forecast_policy(directory: Path | str) -> tuple[ForecastPolicy | None, list[PolicyError]]:
    """Read ``forecast.yaml`` from ``directory`` (or the built-in default when it has none)."""
    path = Path(directory) / FILE
    if not path.exists():
        path = DEFAULT_POLICY_DIR / FILE
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        return None, [PolicyError(FILE, "", f"not valid YAML: {exc}")]
    try:
        return ForecastPolicy.model_validate(data), []
    except ValidationError as exc:
        return None, [PolicyError(FILE, _loc(e["loc"]), e["msg"]) for e in exc.errors()]


def load_forecast_policy(directory: Path | str) -> ForecastPolicy:
    policy, errors = check_forecast_policy(directory)
    if policy is None:
        raise ForecastPolicyInvalid(errors)
    return policy


def _loc(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
