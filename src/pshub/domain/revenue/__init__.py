"""Revenue recognition (ASC 606 / IFRS 15): a pure engine.

``run_contract(RevenueCase) -> RevenueResult`` (``run_contracts`` for a batch): allocation
of the transaction price, revenue per obligation and period (time & materials, point in
time, cost-to-cost, straight-line), contract modifications, contract balances and balanced
journal entries.
Imports only the standard library, pydantic and :mod:`pshub.domain.money`.
"""

from pshub.domain.revenue.allocation import AllocationBasis, AllocationLine, allocate_price
from pshub.domain.revenue.balances import Balances, balances
from pshub.domain.revenue.engine import run_contract, run_contracts, total_revenue
from pshub.domain.revenue.journals import (
    Account,
    EntryKind,
    JournalEntry,
    JournalLine,
    UnbalancedEntryError,
)
from pshub.domain.revenue.modifications import ModificationDecision, decide
from pshub.domain.revenue.obligations import (
    Activity,
    ContractTerms,
    Method,
    Modification,
    Obligation,
    RecognitionPolicy,
    RevenueCase,
    RevenueInputError,
    Treatment,
)
from pshub.domain.revenue.price import (
    Outcome,
    VariableConsideration,
    VariableMethod,
    constrained,
    estimate,
)
from pshub.domain.revenue.results import (
    FindingSeverity,
    PeriodResult,
    RevenueFinding,
    RevenueResult,
)

__all__ = [
    "Account",
    "Activity",
    "AllocationBasis",
    "AllocationLine",
    "Balances",
    "ContractTerms",
    "EntryKind",
    "FindingSeverity",
    "JournalEntry",
    "JournalLine",
    "Method",
    "Modification",
    "ModificationDecision",
    "Obligation",
    "Outcome",
    "PeriodResult",
    "RecognitionPolicy",
    "RevenueCase",
    "RevenueFinding",
    "RevenueInputError",
    "RevenueResult",
    "Treatment",
    "UnbalancedEntryError",
    "VariableConsideration",
    "VariableMethod",
    "allocate_price",
    "balances",
    "constrained",
    "decide",
    "estimate",
    "run_contract",
    "run_contracts",
    "total_revenue",
]
