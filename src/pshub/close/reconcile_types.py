"""A reconciliation difference: its category, money and the source records it points at."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

TIMING = ("unbilled_wip", "billed_ahead")
BREAKS = ("missing_invoice", "amount_mismatch", "missing_posting")


@dataclass(frozen=True, slots=True)
class Difference:
    category: str
    contract_id: str | None
    amount: Decimal
    currency: str
    message: str
    sources: tuple[str, ...]  # "system:type:id"

    @property
    def kind(self) -> str:
        if self.category in TIMING:
            return "timing"
        return "break" if self.category in BREAKS else "unexplained"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "category": self.category,
            "contract_id": self.contract_id,
            "amount": str(self.amount),
            "currency": self.currency,
            "message": self.message,
            "sources": list(self.sources),
        }
