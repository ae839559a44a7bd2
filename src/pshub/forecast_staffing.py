"""Staffing inputs of the forecast: PSA assignments, the staffing plan, consultants' capacity.

See :mod:`pshub.forecast_inputs` for where every input comes from; this module turns the PSA's
assignments (:class:`pshub.domain.staffing.PlannedWork`) and the policy's staffing plan into
forecast :class:`~pshub.domain.forecast.Assignment` rows and capacity rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pshub.domain.findings import Finding, Severity
from pshub.domain.forecast import Assignment, Capacity, ContractForecastInput
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel
from pshub.domain.staffing import PlannedWork, minutes_by_month
from pshub.policy import Policy
from pshub.policy.forecast import ForecastPolicy

HOURS = Decimal("0.01")


def staffed(
    psa_to_project: dict[str, str],
    contracts: Sequence[ContractForecastInput],
    projects: dict[str, dict[str, Any]],
    staffing: Sequence[PlannedWork],
    cards: dict[str, str],
    policy: Policy,
    months: list[str],
    findings: list[Finding],
) -> list[Assignment]:
    """The PSA's assignments as forecast assignments: hours per month of the horizon, named
    consultant and role, at the contract's bill rate for that role."""
    if not staffing:
        return []
    contract_of = {p["id"]: contract for contract, p in projects.items()}
    by_id = {c.id: c for c in contracts}
    horizon = set(months)
    out: list[Assignment] = []
    for work in staffing:
        contract = by_id.get(contract_of.get(psa_to_project.get(work.psa_project_id, ""), ""))
        person = policy.billing.consultants.get(work.user_id)
        if contract is None or person is None:
            findings.append(_unplaceable(work, "its project" if person else "its consultant"))
            continue
        for month, minutes in minutes_by_month(work).items():
            if month not in horizon or not minutes:
                continue
            rate = _bill_rate(contract, cards, policy, person.role, month, findings)
            if rate is None:
                continue
            out.append(
                Assignment(
                    id=f"psa:{work.assignment_id}:{month}",
                    contract_id=contract.id,
                    consultant=work.user_id,
                    role=person.role,
                    month=month,
                    planned_hours=(Decimal(minutes) / 60).quantize(HOURS, ROUND_HALF_UP),
                    bill_rate=rate,
                )
            )
    return out


def _bill_rate(
    contract: ContractForecastInput,
    cards: dict[str, str],
    policy: Policy,
    role: str,
    month: str,
    findings: list[Finding],
) -> Money | None:
    """The contract's rate for the role in the month; only T&M needs one (others: zero)."""
    card = policy.rules.rate_cards.get(cards.get(contract.id) or _rate_card(contract, policy))
    rate = card.rate_for(role, date.fromisoformat(f"{month}-01")) if card else None
    if rate is not None and rate.currency == contract.currency:
        return rate
    if contract.billing_model is not BillingModel.TIME_AND_MATERIALS:
        return Money.of(0, contract.currency)  # staffed hours count for capacity only
    findings.append(_no_rate(contract, role, month))
    return None


def _unplaceable(work: PlannedWork, what: str) -> Finding:
    return Finding(
        code="assignment_unmapped",
        message=(
            f"PSA assignment {work.assignment_id} (user {work.user_id}, project "
            f"{work.psa_project_id}): the hub does not know {what}; not forecast"
        ),
        severity=Severity.WARNING,
        record=work.assignment_id,
    )


def planned(
    contracts: Iterable[ContractForecastInput],
    cards: dict[str, str],
    policy: Policy,
    rules: ForecastPolicy,
    months: list[str],
    findings: list[Finding],
) -> list[Assignment]:
    """Stand-in for PSA assignments: the staffing plan on every open T&M contract."""
    plan = rules.staffing_plan
    out: list[Assignment] = []
    for c in contracts:
        if c.billing_model is not BillingModel.TIME_AND_MATERIALS or c.remaining_value.is_zero():
            continue
        card = policy.rules.rate_cards.get(cards.get(c.id) or _rate_card(c, policy))
        lo, hi = c.start_date.isoformat()[:7], c.end_date.isoformat()[:7]
        for month in (m for m in months if lo <= m <= hi):
            for role in plan.weekly_hours:
                rate = card.rate_for(role.role, date.fromisoformat(f"{month}-01")) if card else None
                if rate is None:
                    findings.append(_no_rate(c, role.role, month))
                    continue
                hours = (role.hours * plan.weeks_per_month).quantize(HOURS, ROUND_HALF_UP)
                out.append(
                    Assignment(
                        id=f"plan:{c.id}:{role.role}:{month}",
                        contract_id=c.id,
                        consultant=None,
                        role=role.role,
                        month=month,
                        planned_hours=hours,
                        bill_rate=rate,
                    )
                )
    return out


def _rate_card(contract: ContractForecastInput, policy: Policy) -> str:
    """For a contract without a rate card: the first card in the contract's currency."""
    for code, card in policy.rules.rate_cards.items():
        if card.currency == contract.currency:
            return code
    return ""


def _no_rate(contract: ContractForecastInput, role: str, month: str) -> Finding:
    return Finding(
        code="plan_no_rate",
        message=f"contract {contract.id}: no {contract.currency} bill rate for {role} in {month}",
        severity=Severity.WARNING,
        record=contract.id,
    )


def capacity(policy: Policy, rules: ForecastPolicy, months: list[str]) -> list[Capacity]:
    hours = rules.capacity.monthly_hours
    return [
        Capacity(consultant=person.psa_user_id, role=person.role, month=m, available_hours=hours)
        for person in policy.billing.consultants.values()
        for m in months
    ]
