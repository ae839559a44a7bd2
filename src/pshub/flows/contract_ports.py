"""The ports the change-order flow calls, in canonical types, met structurally by connectors.

The ERP keeps a contract's billing lines on an order (NetSuite: the job's sales order, keyed
by the contract's external id). An order awaiting approval cannot be edited: the flow reads
its state first and waits (durably, as a change order ``waiting``) instead of failing.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ErpOrderLine(BaseModel):
    model_config = _FROZEN

    line_id: str  # the contract line's id
    description: str
    amount: Money
    bill_date: date | None = None


class ErpOrderDraft(BaseModel):
    """The contract version's billing lines for the ERP, upserted by ``contract_id``."""

    model_config = _FROZEN

    contract_id: str
    version: int
    customer_job_id: str
    currency: str
    tran_date: date
    start_date: date | None = None
    end_date: date | None = None
    lines: tuple[ErpOrderLine, ...]


class ErpOrderState(BaseModel):
    """Where the ERP's order for a contract stands."""

    model_config = _FROZEN

    erp_id: str
    status: str
    pending_approval: bool
    total: Money
    lines: int


class ErpContractPort(Protocol):
    system: str

    def get_contract_order(self, contract_id: str) -> ErpOrderState | None:
        """The order for the contract, or None when the ERP has none yet."""
        ...

    def upsert_contract_order(self, draft: ErpOrderDraft) -> str:
        """Create or replace the order's lines (by external id); its internal id."""
        ...
