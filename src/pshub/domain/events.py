"""Canonical business events. Every event names its source and carries a stable event id."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money
from pshub.domain.sales import Opportunity

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class OpportunityWon(BaseModel):
    """A deal reached Closed Won in the CRM."""

    model_config = _FROZEN

    type: Literal["OpportunityWon"] = "OpportunityWon"
    event_id: str
    source_system: str
    occurred_at: datetime
    opportunity: Opportunity


class ProjectProvisioned(BaseModel):
    """A won deal now has a customer, a PSA project and an ERP job, ids written back to the CRM."""

    model_config = _FROZEN

    type: Literal["ProjectProvisioned"] = "ProjectProvisioned"
    correlation_id: str
    opportunity_id: str
    contract_id: str
    project_id: str
    value: Money
    system_ids: dict[str, str]


class ProvisioningBlocked(BaseModel):
    """A won deal that the rules will not provision yet; one business exception per event."""

    model_config = _FROZEN

    type: Literal["ProvisioningBlocked"] = "ProvisioningBlocked"
    correlation_id: str
    opportunity_id: str
    reasons: tuple[str, ...]
    value: Money
