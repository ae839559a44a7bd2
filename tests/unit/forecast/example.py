"""The worked example of docs/forecast.md: one legal entity (UK, GBP), two service lines.

As of 2025-03 (January and February are closed), horizon three months (March to May).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pshub.domain.forecast import (
    Actual,
    Assignment,
    Capacity,
    ContractForecastInput,
    ForecastInputs,
    MilestonePlan,
    OpenOpportunity,
    PercentCompletePoint,
    StageProbabilities,
)
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel


def gbp(amount: str) -> Money:
    return Money.of(amount, "GBP")


def contract(
    cid: str, model: BillingModel, line: str, value: str, done: str, **kw: object
) -> ContractForecastInput:
    data: dict[str, object] = {
        "id": cid,
        "billing_model": model,
        "currency": "GBP",
        "legal_entity": "UK",
        "service_line": line,
        "value": gbp(value),
        "recognised_to_date": gbp(done),
        "start_date": date(2025, 1, 1),
        "end_date": date(2025, 12, 31),
    }
    return ContractForecastInput.model_validate(data | kw)


def assignment(aid: str, who: str | None, month: str, hours: str, cid: str = "C1") -> Assignment:
    return Assignment(
        id=aid,
        contract_id=cid,
        consultant=who,
        role="consultant",
        month=month,
        planned_hours=Decimal(hours),
        bill_rate=gbp("60.00"),
    )


def capacity(who: str | None, month: str, hours: str) -> Capacity:
    return Capacity(consultant=who, role="consultant", month=month, available_hours=Decimal(hours))


def worked_example() -> ForecastInputs:
    c1 = contract("C1", BillingModel.TIME_AND_MATERIALS, "ADVISORY", "50000", "38000")
    c2 = contract(
        "C2",
        BillingModel.FIXED_FEE_MILESTONE,
        "ADVISORY",
        "30000",
        "10000",
        milestones=(
            MilestonePlan(
                id="M0", due_date=date(2025, 1, 31), amount=gbp("10000"), recognised=True
            ),
            MilestonePlan(id="M1", due_date=date(2025, 2, 28), amount=gbp("8000")),
            MilestonePlan(id="M2", due_date=date(2025, 5, 15), amount=gbp("12000")),
        ),
    )
    c3 = contract(
        "C3",
        BillingModel.PERCENT_COMPLETE,
        "CLOUD",
        "100000",
        "24000",
        percent_complete_plan=tuple(
            PercentCompletePoint(month=m, cumulative_percent=Decimal(p))
            for m, p in (("2025-02", 25), ("2025-03", 40), ("2025-04", 70), ("2025-05", 100))
        ),
    )
    c4 = contract(
        "C4",
        BillingModel.RETAINER,
        "CLOUD",
        "40000",
        "6666.67",
        retainer_fee=gbp("10000"),
        retainer_period_months=3,
    )
    return ForecastInputs(
        contracts=(c1, c2, c3, c4),
        assignments=(
            assignment("A1", "alice", "2025-03", "100"),
            assignment("A2", "alice", "2025-04", "80"),
            assignment("A3", None, "2025-05", "50"),
        ),
        capacity=(
            capacity("alice", "2025-03", "120"),
            capacity("alice", "2025-04", "60"),
            capacity("alice", "2025-05", "10"),
            capacity(None, "2025-05", "30"),
        ),
        opportunities=(
            opportunity("O1", "ADVISORY", "Negotiation", "20000", date(2025, 4, 10), 4),
            opportunity("O2", "CLOUD", "Proposal", "1000", date(2025, 1, 15), 3),
            opportunity("O3", "CLOUD", "Discovery", "5000", date(2025, 3, 1), 2),
        ),
        stage_probabilities=StageProbabilities(
            percent_by_stage={
                "Prospecting": Decimal(10),
                "Proposal": Decimal(50),
                "Negotiation": Decimal(75),
            }
        ),
        actuals=(
            actual("ACT-1", "ADVISORY", "2025-01", "14000.00"),
            actual("ACT-2", "ADVISORY", "2025-02", "18000.00"),
            actual("ACT-3", "CLOUD", "2025-02", "12000.00"),
        ),
    )


def opportunity(
    oid: str, line: str, stage: str, amount: str, start: date, months: int
) -> OpenOpportunity:
    return OpenOpportunity(
        id=oid,
        legal_entity="UK",
        service_line=line,
        stage=stage,
        amount=gbp(amount),
        expected_start=start,
        duration_months=months,
    )


def actual(aid: str, line: str, month: str, amount: str) -> Actual:
    return Actual(
        id=aid,
        legal_entity="UK",
        service_line=line,
        month=month,
        amount=gbp(amount),
        source_ids=(f"jnl-{aid}",),
    )
