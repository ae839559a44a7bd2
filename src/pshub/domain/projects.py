"""Projects (the delivery of a contract), their tasks and billable milestones."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ProjectTemplate(BaseModel):
    """What a new project of a service line starts with."""

    model_config = _FROZEN

    code: str
    name: str
    tasks: tuple[str, ...]


class Task(BaseModel):
    model_config = _FROZEN

    id: str
    name: str


class Milestone(BaseModel):
    """A unit of delivery that carries a billing amount."""

    model_config = _FROZEN

    id: str
    name: str
    amount: Money
    due_date: date | None = None
    source_line_id: str | None = None


class Project(BaseModel):
    model_config = _FROZEN

    id: str
    contract_id: str
    name: str
    template: str
    legal_entity: str
    currency: str
    budget: Money
    start_date: date | None = None
    end_date: date | None = None
    tasks: tuple[Task, ...] = ()
    milestones: tuple[Milestone, ...] = ()
