"""How a contract modification is accounted for, decided from the facts or forced.

ASC 606-10-25-12 (IFRS 15.20): a separate contract when the scope grows by distinct goods
or services AND the price grows by their standalone selling prices. Otherwise ASC
606-10-25-13 (IFRS 15.21): (a) if the remaining goods or services are distinct from those
already transferred, terminate the old contract and create a new one (prospective);
(b) if they are not, treat the change as part of the existing contract and adjust revenue
by a cumulative catch-up.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from pshub.domain.revenue.allocation import AllocationLine
from pshub.domain.revenue.obligations import Modification, RevenueInputError, Treatment


class ModificationDecision(BaseModel):
    """The treatment chosen for one modification, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period: str
    treatment: Treatment
    forced: bool
    reason: str
    allocation: tuple[AllocationLine, ...] = ()  # what each affected obligation received


def decide(modification: Modification, period: str, field: str) -> ModificationDecision:
    """Decide the treatment; ``field`` is the modification's input path for errors."""
    if modification.treatment is not None:
        return ModificationDecision(
            period=period,
            treatment=modification.treatment,
            forced=True,
            reason="treatment given in the case",
        )
    if modification.add_obligations and modification.distinct and modification.at_standalone_price:
        if modification.extend:
            raise RevenueInputError(
                f"{field}.extend",
                "a separate contract cannot extend obligations; add a new obligation instead",
            )
        return ModificationDecision(
            period=period,
            treatment=Treatment.SEPARATE_CONTRACT,
            forced=False,
            reason="distinct goods or services at standalone selling price (ASC 606-10-25-12)",
        )
    remaining = modification.remaining_distinct
    if remaining is None:
        remaining = modification.distinct
    if remaining is None:
        raise RevenueInputError(
            f"{field}.distinct",
            "say whether the goods or services are distinct, or give a treatment",
        )
    if remaining:
        return ModificationDecision(
            period=period,
            treatment=Treatment.PROSPECTIVE,
            forced=False,
            reason="remaining goods or services are distinct: terminate and create a new contract "
            "(ASC 606-10-25-13(a))",
        )
    return ModificationDecision(
        period=period,
        treatment=Treatment.CUMULATIVE_CATCH_UP,
        forced=False,
        reason="remaining goods or services are not distinct: part of the existing contract, "
        "cumulative catch-up (ASC 606-10-25-13(b))",
    )
