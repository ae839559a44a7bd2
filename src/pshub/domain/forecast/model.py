"""The monthly revenue forecast: actuals, backlog and weighted pipeline, each traceable.

``forecast(inputs, as_of_month, horizon_months)`` is pure: ``as_of_month`` is the first
open month (months before it are closed and carry actuals) and the forecast covers
``horizon_months`` months from it. Internally every contribution is a plain tuple keyed
by cell; models are built once at the end (the run must stay fast at 10^4 contracts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from pshub.domain.findings import Finding, Severity
from pshub.domain.forecast.backlog import convert
from pshub.domain.forecast.capacity import RiskCellDraft, RiskKey, revenue_at_risk
from pshub.domain.forecast.inputs import Assignment, ContractForecastInput, ForecastInputs
from pshub.domain.forecast.months import month_index, month_label, month_of
from pshub.domain.forecast.results import (
    AtRiskCell,
    Category,
    ContractDriver,
    ForecastCell,
    ForecastSnapshotData,
    LineageEntry,
    MilestoneDriver,
    OpportunityDriver,
    SourceKind,
    trusted_money,
)
from pshub.domain.money import Money, allocate

_Key = tuple[str, str, str, int, Category]  # entity, service line, currency, month, category
_Entry = tuple[SourceKind, str, tuple[str, ...], Decimal]
_Cells = dict[_Key, list[_Entry]]
HUNDRED = Decimal(100)


def forecast(inputs: ForecastInputs, as_of_month: str, horizon_months: int) -> ForecastSnapshotData:
    """Forecast revenue per legal entity, service line, currency, month and category."""
    if horizon_months < 1:
        raise ValueError(f"horizon_months: {horizon_months} must be at least 1")
    first = month_index(as_of_month)
    last = first + horizon_months - 1
    findings: list[Finding] = []
    cells: _Cells = defaultdict(list)
    contracts = {c.id: c for c in inputs.contracts}
    assigned = _assignments_by_contract(inputs.assignments, contracts, findings)
    tm_revenue = _backlog(inputs.contracts, assigned, first, last, cells, findings)
    _pipeline(inputs, first, last, cells, findings)
    _actuals(inputs, first, cells, findings)
    usable = [a for rows in assigned.values() for a in rows]
    risk = revenue_at_risk(usable, inputs.capacity, contracts, tm_revenue, first, last)
    return ForecastSnapshotData(
        as_of_month=as_of_month,
        horizon_months=horizon_months,
        months=tuple(month_label(m) for m in range(first, last + 1)),
        cells=_wrap_cells(cells),
        at_risk=_wrap_risk(risk),
        contracts=_contract_drivers(inputs.contracts),
        milestones=_milestone_drivers(inputs.contracts),
        opportunities=_opportunity_drivers(inputs),
        findings=tuple(findings),
    )


def _assignments_by_contract(
    assignments: Sequence[Assignment],
    contracts: dict[str, ContractForecastInput],
    findings: list[Finding],
) -> dict[str, list[Assignment]]:
    """Assignments grouped by contract; unknown contracts and wrong currencies are findings."""
    out: dict[str, list[Assignment]] = defaultdict(list)
    for a in assignments:
        contract = contracts.get(a.contract_id)
        if contract is None:
            findings.append(_finding("assignment_unknown_contract", a.id, a.contract_id))
        elif a.bill_rate.currency != contract.currency:
            findings.append(_finding("assignment_currency", a.id, contract.currency))
        else:
            out[a.contract_id].append(a)
    return out


def _backlog(
    contracts: Sequence[ContractForecastInput],
    assigned: dict[str, list[Assignment]],
    first: int,
    last: int,
    cells: _Cells,
    findings: list[Finding],
) -> dict[str, Decimal]:
    """Backlog contributions; returns the forecast revenue of each T&M assignment."""
    tm_revenue: dict[str, Decimal] = {}
    for c in sorted(contracts, key=lambda c: c.id):
        for m, kind, sid, refs, amount in convert(c, assigned.get(c.id, ()), first, last, findings):
            key = (c.legal_entity, c.service_line, c.currency, m, Category.BACKLOG)
            cells[key].append((kind, sid, refs, amount))
            if kind is SourceKind.ASSIGNMENT:
                tm_revenue[sid] = amount
    return tm_revenue


def _pipeline(
    inputs: ForecastInputs, first: int, last: int, cells: _Cells, findings: list[Finding]
) -> None:
    """Amount x stage probability (rounded half-up), spread evenly from the expected start.

    An opportunity whose expected start has passed starts in the first open month.
    """
    for o in sorted(inputs.opportunities, key=lambda o: o.id):
        percent = inputs.stage_probabilities.percent(o.stage)
        if percent is None:
            findings.append(_finding("unknown_stage", o.id, o.stage, o.amount))
            continue
        weighted = Money.of(o.amount.amount * percent / HUNDRED, o.amount.currency)
        if weighted.rounded().is_zero():
            continue
        start = max(month_of(o.expected_start), first)
        for k, part in enumerate(allocate(weighted, [1] * o.duration_months)):
            if start + k > last:
                break
            if part.amount:
                key = (o.legal_entity, o.service_line, part.currency, start + k, Category.PIPELINE)
                cells[key].append((SourceKind.OPPORTUNITY, o.id, (), part.amount))


def _actuals(inputs: ForecastInputs, first: int, cells: _Cells, findings: list[Finding]) -> None:
    """Recognised revenue of closed months; an actual in an open month is a finding."""
    for a in inputs.actuals:
        m = month_index(a.month)
        if m >= first:
            findings.append(_finding("actual_in_open_month", a.id, a.month, a.amount))
            continue
        key = (a.legal_entity, a.service_line, a.amount.currency, m, Category.ACTUAL)
        cells[key].append((SourceKind.ACTUAL, a.id, a.source_ids, a.amount.amount))


def _wrap_cells(cells: _Cells) -> tuple[ForecastCell, ...]:
    out: list[ForecastCell] = []
    entry = _EntryFactory()
    for key in sorted(cells):
        entity, line, currency, m, category = key
        entries = sorted(cells[key], key=lambda e: (e[0], e[1]))
        out.append(
            ForecastCell.model_construct(
                legal_entity=entity,
                service_line=line,
                month=month_label(m),
                category=category,
                amount=trusted_money(sum((e[3] for e in entries), Decimal(0)), currency),
                lineage=tuple(
                    entry(kind, sid, refs, amount, currency) for kind, sid, refs, amount in entries
                ),
            )
        )
    return tuple(out)


class _EntryFactory:
    """Builds lineage entries, sharing one immutable Money per distinct amount (speed)."""

    def __init__(self) -> None:
        self.money: dict[tuple[Decimal, str], Money] = {}

    def __call__(
        self, kind: SourceKind, sid: str, refs: tuple[str, ...], amount: Decimal, currency: str
    ) -> LineageEntry:
        key = (amount, currency)
        value = self.money.get(key)
        if value is None:
            value = self.money[key] = Money(amount=amount, currency=currency)
        return LineageEntry(kind, sid, value, refs)


def _wrap_risk(risk: dict[RiskKey, RiskCellDraft]) -> tuple[AtRiskCell, ...]:
    out: list[AtRiskCell] = []
    entry = _EntryFactory()
    for (entity, line, currency, m), draft in sorted(risk.items()):
        lineage = sorted(draft.lineage)
        out.append(
            AtRiskCell.model_construct(
                legal_entity=entity,
                service_line=line,
                month=month_label(m),
                needed_hours=draft.needed,
                staffed_hours=draft.needed - draft.unstaffed,
                unstaffed_hours=draft.unstaffed,
                amount=trusted_money(sum((v for _, _, v in lineage), Decimal(0)), currency),
                lineage=tuple(
                    entry(SourceKind.ASSIGNMENT, aid, (cid,), v, currency)
                    for aid, cid, v in lineage
                ),
            )
        )
    return tuple(out)


def _contract_drivers(contracts: Sequence[ContractForecastInput]) -> tuple[ContractDriver, ...]:
    return tuple(
        ContractDriver.model_construct(
            id=c.id,
            version=c.version,
            opportunity_id=c.opportunity_id,
            value=c.value,
            recognised_to_date=c.recognised_to_date,
        )
        for c in sorted(contracts, key=lambda c: c.id)
    )


def _milestone_drivers(contracts: Sequence[ContractForecastInput]) -> tuple[MilestoneDriver, ...]:
    rows = [
        MilestoneDriver.model_construct(
            id=m.id,
            contract_id=c.id,
            month=month_label(month_of(m.due_date)),
            recognised=m.recognised,
        )
        for c in contracts
        for m in c.milestones
    ]
    return tuple(sorted(rows, key=lambda d: d.id))


def _opportunity_drivers(inputs: ForecastInputs) -> tuple[OpportunityDriver, ...]:
    return tuple(
        OpportunityDriver.model_construct(
            id=o.id,
            stage=o.stage,
            amount=o.amount,
            start_month=month_label(month_of(o.expected_start)),
            duration_months=o.duration_months,
        )
        for o in sorted(inputs.opportunities, key=lambda o: o.id)
    )


_MESSAGES = {
    "assignment_unknown_contract": "assignment {0}: contract {1} is not in the forecast inputs",
    "assignment_currency": "assignment {0}: bill rate is not in the contract currency {1}",
    "unknown_stage": "opportunity {0}: stage {1!r} has no probability in the policy",
    "actual_in_open_month": "actual {0}: month {1} is not closed; left out",
}


def _finding(code: str, record: str, detail: str, amount: Money | None = None) -> Finding:
    return Finding(
        code=code,
        message=_MESSAGES[code].format(record, detail),
        severity=Severity.ERROR if code == "assignment_currency" else Severity.WARNING,
        record=record,
        amount=amount,
    )
