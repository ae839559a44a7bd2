"""Findings are values, not exceptions: what a rule found, where, and the money it holds back."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money


class Severity(StrEnum):
    ERROR = "error"  # blocks the work it points at
    WARNING = "warning"  # noted; the work goes on


class Finding(BaseModel):
    """One result of a rule: ``field`` names the offending input, ``amount`` the money held back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    message: str
    field: str | None = None
    severity: Severity = Severity.ERROR
    record: str | None = None  # canonical or source id the finding points at
    amount: Money | None = None

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that stop the work."""
    return [f for f in findings if f.blocking]
