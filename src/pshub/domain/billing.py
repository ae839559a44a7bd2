"""Time-to-bill rules: from approved work to ERP billable lines, or to findings with money.

:func:`price_work` turns the work items of one project into billing lines: bill rate from the
contract's rate card (role, date, currency), cost from the consultant's cost rate, tax code
from the contract, the billing period from the approval and the calendar's cutoffs, the
not-to-exceed cap split into a non-billable overage line, foreign-currency expenses converted
at the dated FX rate. Work on hold, or that cannot be priced, becomes a finding that names the
field and the money it holds back; the rest of the batch goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from pshub.domain.delivery import ExpenseEntry, TimeEntry
from pshub.domain.findings import Finding, Severity
from pshub.domain.money import Money
from pshub.domain.rates import RateCard
from pshub.domain.sales import BillingModel

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_new = object.__new__
_set = object.__setattr__


class WorkKind(StrEnum):
    TIME = "time"
    EXPENSE = "expense"


class WorkItem(BaseModel):
    """A unit of delivered work from the PSA: a time entry or an expense, at one version."""

    model_config = _FROZEN

    kind: WorkKind
    source_id: str
    version: int = Field(ge=1)
    project_id: str  # the PSA project (workspace) id
    consultant_id: str | None = None
    role: str | None = None
    work_date: date
    hours: Decimal | None = None  # time entries
    amount: Money | None = None  # expenses
    category: str | None = None
    billable: bool = True
    approved: bool = False
    approved_at: datetime | None = None
    on_hold: bool = False  # entry-level billing hold
    hold_reason: str | None = None
    notes: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.source_id}"  # a StrEnum formats as its value

    def with_role(self, role: str | None) -> WorkItem:
        """This item with another billing role: a copy built as ``model_copy`` would, without
        its deep-copy machinery (planning re-roles every entry of a month-end run)."""
        made = _new(WorkItem)
        _set(made, "__dict__", {**self.__dict__, "role": role})
        _set(made, "__pydantic_fields_set__", self.__pydantic_fields_set__ | {"role"})
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made


class ProjectBilling(BaseModel):
    """What the rules need to know about the project a work item belongs to."""

    model_config = _FROZEN

    project_id: str
    name: str
    contract_id: str
    legal_entity: str
    currency: str
    billing_model: BillingModel
    rate_card: RateCard | None = None
    tax_code: str
    on_hold: bool = False
    hold_reason: str | None = None
    cap: Money | None = None  # not-to-exceed
    billed_to_date: Money | None = None  # counts toward the cap


class Period(BaseModel):
    """A billing period; approvals after ``cutoff`` roll into the next open period."""

    model_config = _FROZEN

    label: str  # YYYY-MM
    start: date
    end: date  # inclusive
    cutoff: datetime
    closed: bool = False


class BillingCalendar(BaseModel):
    model_config = _FROZEN

    periods: tuple[Period, ...]

    def period_of(self, day: date) -> int | None:
        for i, p in enumerate(self.periods):
            if p.start <= day <= p.end:
                return i
        return None

    def place(self, work_date: date, approved_at: datetime) -> tuple[Period | None, str | None]:
        """The open period that takes work done on ``work_date`` and approved at ``approved_at``,
        and a note when it is not the work date's own period."""
        index = self.period_of(work_date)
        if index is None:
            return None, None
        own = self.periods[index]
        note = None
        if approved_at > own.cutoff:
            note = (
                f"approved {approved_at:%Y-%m-%d %H:%M} UTC after the {own.label} cutoff "
                f"({own.cutoff:%Y-%m-%d %H:%M} UTC)"
            )
            index += 1
        while index < len(self.periods) and self.periods[index].closed:
            note = note or f"period {own.label} is closed"
            index += 1
        if index >= len(self.periods):
            return None, note
        chosen = self.periods[index]
        if chosen.label != own.label and note is not None:
            note = f"{note}: billed in {chosen.label}"
        return chosen, note


class FxRates(BaseModel):
    """Dated FX rates: the rate on or before a date applies. ``rates[(from, to)]`` ascending."""

    model_config = _FROZEN

    rates: dict[str, tuple[tuple[date, Decimal], ...]] = {}  # key "EUR/USD"

    def convert(self, value: Money, to: str, on: date) -> Money | None:
        if value.currency == to:
            return value
        table = self.rates.get(f"{value.currency}/{to}")
        if not table:
            return None
        rate = None
        for day, r in table:
            if day <= on:
                rate = r
        return None if rate is None else Money.of(value.amount * rate, to).rounded()


class LinePart(StrEnum):
    BILLABLE = "billable"
    NON_BILLABLE = "non_billable"  # not billable by nature (internal time)
    OVERAGE = "overage"  # over the not-to-exceed cap


@dataclass(frozen=True, slots=True)
class BillingLine:
    """One line for the ERP: billable amount (zero for non-billable parts) and cost."""

    key: str  # "<kind>:<source id>:v<version>:<part>" — the ERP external id is derived from it
    kind: WorkKind
    source_id: str
    version: int
    part: LinePart
    project_id: str
    legal_entity: str
    period: str
    work_date: date
    consultant_id: str | None
    role: str | None
    hours: Decimal | None
    rate: Money | None
    amount: Money
    cost: Money | None
    tax_code: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Priced:
    lines: list[BillingLine]
    findings: list[Finding]
    held: list[WorkItem]  # on hold: neither posted nor an error


def price_work(
    items: Sequence[WorkItem],
    project: ProjectBilling,
    calendar: BillingCalendar,
    cost_rates: dict[str, Money],
    fx: FxRates,
) -> Priced:
    """Price the approved work items of one project (the caller groups by project)."""
    lines: list[BillingLine] = []
    findings: list[Finding] = []
    held: list[WorkItem] = []
    remaining = _cap_remaining(project)
    # A month of entries repeats a few roles, days and approval instants: each rate and each
    # period placement is looked up once per run.
    rates: dict[tuple[str, date], Money | None] = {}
    values: dict[tuple[Decimal, str, Decimal], Money] = {}
    costs: dict[tuple[str, Decimal], Money] = {}
    places: dict[tuple[date, datetime], tuple[Period | None, str | None]] = {}
    for item in sorted(items, key=lambda i: (i.work_date, i.source_id)):
        value, problems = _value(item, project, fx, rates, values)
        if problems:
            findings.extend(problems)
            continue
        assert value is not None
        hold = _hold_reason(item, project)
        if hold is not None:
            held.append(item)
            findings.append(
                _finding(
                    "billing.hold",
                    f"{item.kind.value}.hold",
                    hold,
                    item,
                    value[1],
                    Severity.WARNING,
                )
            )
            continue
        assert item.approved_at is not None
        placed = places.get((item.work_date, item.approved_at))
        if placed is None:
            placed = places[(item.work_date, item.approved_at)] = calendar.place(
                item.work_date, item.approved_at
            )
        period, note = placed
        if period is None:
            findings.append(
                _finding(
                    "billing.no_open_period",
                    f"{item.kind.value}.work_date",
                    note or f"no billing period covers {item.work_date}",
                    item,
                    value[1],
                )
            )
            continue
        if note:
            findings.append(
                _finding(
                    "billing.cutoff_rolled",
                    f"{item.kind.value}.approved_at",
                    note,
                    item,
                    value[1],
                    Severity.WARNING,
                )
            )
        cost, cost_problem = _cost(item, cost_rates, project.currency, fx, costs)
        if cost_problem:
            findings.append(cost_problem)
            continue
        new_lines, remaining = _split_cap(item, project, value, cost, period.label, note, remaining)
        lines.extend(new_lines)
    return Priced(lines=lines, findings=findings, held=held)


def _cap_remaining(project: ProjectBilling) -> Money | None:
    if project.cap is None:
        return None
    billed = project.billed_to_date or Money.zero(project.currency)
    left = project.cap - billed
    return left if not left.is_negative() else Money.zero(project.currency)


def _hold_reason(item: WorkItem, project: ProjectBilling) -> str | None:
    if project.on_hold:
        return f"project {project.name} on billing hold" + (
            f": {project.hold_reason}" if project.hold_reason else ""
        )
    if item.on_hold:
        return f"{item.kind.value} {item.source_id} on billing hold" + (
            f": {item.hold_reason}" if item.hold_reason else ""
        )
    return None


def _value(
    item: WorkItem,
    project: ProjectBilling,
    fx: FxRates,
    rates: dict[tuple[str, date], Money | None],
    values: dict[tuple[Decimal, str, Decimal], Money],
) -> tuple[tuple[Money | None, Money] | None, list[Finding]]:
    """(bill rate, value at bill rate in contract currency), or findings naming the field."""
    kind = item.kind.value
    if not item.approved or item.approved_at is None:
        return None, [
            _finding(
                "billing.not_approved",
                f"{kind}.approved",
                f"{kind} {item.source_id} is not approved",
                item,
                None,
            )
        ]
    if item.kind is WorkKind.TIME:
        if item.hours is None or item.hours < 0:
            return None, [
                _finding(
                    "time.hours_invalid",
                    "time_entry.hours",
                    f"hours {item.hours} must be zero or more",
                    item,
                    None,
                )
            ]
        if not item.billable:
            return (None, Money.zero(project.currency)), []
        card = project.rate_card
        role = (item.role or "", item.work_date)
        if role in rates:
            rate = rates[role]
        else:
            rate = rates[role] = card.rate_for(*role) if card else None
        if rate is None or card is None:
            return None, [
                _finding(
                    "rate.missing",
                    "time_entry.role",
                    f"no bill rate for role {item.role!r} on {item.work_date} "
                    f"in rate card {card.code if card else None!r}",
                    item,
                    None,
                )
            ]
        # A month repeats a few rates and hour counts: each value is computed once per run.
        known = (rate.amount, rate.currency, item.hours)
        value = values.get(known)
        if value is None:
            value = values[known] = (rate * item.hours).rounded()
        return (rate, value), []
    if item.amount is None or item.amount.is_negative():
        return None, [
            _finding(
                "expense.amount_invalid",
                "expense.amount",
                f"amount {item.amount} must be zero or more",
                item,
                None,
            )
        ]
    converted = fx.convert(item.amount, project.currency, item.work_date)
    if converted is None:
        return None, [
            _finding(
                "fx.rate_missing",
                "expense.amount",
                f"no {item.amount.currency}/{project.currency} rate on or before {item.work_date}",
                item,
                item.amount,
            )
        ]
    if not item.billable:
        return (None, Money.zero(project.currency)), []
    return (None, converted.rounded()), []


def _cost(
    item: WorkItem,
    cost_rates: dict[str, Money],
    currency: str,
    fx: FxRates,
    costs: dict[tuple[str, Decimal], Money],
) -> tuple[Money | None, Finding | None]:
    if item.kind is WorkKind.EXPENSE:
        assert item.amount is not None
        return fx.convert(item.amount, currency, item.work_date), None
    rate = cost_rates.get(item.consultant_id or "")
    if rate is None:
        return None, _finding(
            "cost_rate.missing",
            "time_entry.user",
            f"no cost rate for consultant {item.consultant_id!r}",
            item,
            None,
        )
    assert item.hours is not None
    if rate.currency == currency:
        # In the project's currency a cost depends on the consultant and the hours only:
        # each is computed once per run (a converted one also depends on the day's rate).
        known = (item.consultant_id or "", item.hours)
        cost = costs.get(known)
        if cost is None:
            cost = costs[known] = (rate * item.hours).rounded()
        return cost, None
    cost = fx.convert((rate * item.hours).rounded(), currency, item.work_date)
    if cost is None:
        return None, _finding(
            "fx.rate_missing",
            "time_entry.user",
            f"no {rate.currency}/{currency} rate for the cost of {item.consultant_id}",
            item,
            None,
        )
    return cost, None


def _split_cap(
    item: WorkItem,
    project: ProjectBilling,
    value: tuple[Money | None, Money],
    cost: Money | None,
    period: str,
    note: str | None,
    remaining: Money | None,
) -> tuple[list[BillingLine], Money | None]:
    rate, amount = value

    def line(
        part: LinePart,
        hours: Decimal | None,
        billed: Money,
        line_cost: Money | None,
        line_note: str | None,
    ) -> BillingLine:
        return BillingLine(
            key=f"{item.key}:v{item.version}:{part.value}",
            kind=item.kind,
            source_id=item.source_id,
            version=item.version,
            part=part,
            project_id=item.project_id,
            legal_entity=project.legal_entity,
            period=period,
            work_date=item.work_date,
            consultant_id=item.consultant_id,
            role=item.role,
            hours=hours,
            rate=rate,
            amount=billed,
            cost=line_cost,
            tax_code=project.tax_code,
            note=line_note,
        )

    if not item.billable:
        return [line(LinePart.NON_BILLABLE, item.hours, amount, cost, note)], remaining
    if remaining is None or amount <= remaining:
        left = None if remaining is None else remaining - amount
        return [line(LinePart.BILLABLE, item.hours, amount, cost, note)], left
    billable, over = remaining, amount - remaining
    hours_in, hours_over = _split_hours(item.hours, billable, amount)
    cap_note = f"over the not-to-exceed cap of {project.cap}: {over} not billable"
    lines = []
    if not billable.is_zero():
        lines.append(line(LinePart.BILLABLE, hours_in, billable, cost, note))
    lines.append(
        line(
            LinePart.OVERAGE,
            hours_over,
            Money.zero(amount.currency),
            None if lines else cost,
            cap_note,
        )
    )
    return lines, Money.zero(amount.currency)


def _split_hours(
    hours: Decimal | None, part: Money, whole: Money
) -> tuple[Decimal | None, Decimal | None]:
    if hours is None or whole.is_zero():
        return hours, None
    inside = (hours * part.amount / whole.amount).quantize(Decimal("0.01"))
    return inside, hours - inside


def _finding(
    code: str,
    field: str,
    message: str,
    item: WorkItem,
    amount: Money | None,
    severity: Severity = Severity.ERROR,
) -> Finding:
    return Finding(
        code=code, field=field, message=message, severity=severity, record=item.key, amount=amount
    )


def held_value(findings: Iterable[Finding]) -> dict[str, Money]:
    """Money held back by findings, per currency (for exception summaries)."""
    totals: dict[str, Money] = {}
    for f in findings:
        if f.amount is not None and (f.blocking or f.code == "billing.hold"):
            totals[f.amount.currency] = (
                totals.get(f.amount.currency, Money.zero(f.amount.currency)) + f.amount
            )
    return totals


def work_item_from_time(
    entry: TimeEntry, *, on_hold: bool = False, hold_reason: str | None = None
) -> WorkItem:
    """The billing view of a PSA time entry."""
    return WorkItem(
        kind=WorkKind.TIME,
        source_id=entry.source_id,
        version=entry.version,
        project_id=entry.project_source_id,
        consultant_id=entry.user_source_id,
        role=entry.role,
        work_date=entry.work_date,
        hours=entry.hours,
        billable=entry.billable,
        approved=entry.approved,
        approved_at=entry.approved_at,
        on_hold=on_hold,
        hold_reason=hold_reason,
        notes=entry.notes or None,
    )


def work_item_from_expense(
    entry: ExpenseEntry, *, on_hold: bool = False, hold_reason: str | None = None
) -> WorkItem:
    """The billing view of a PSA expense."""
    return WorkItem(
        kind=WorkKind.EXPENSE,
        source_id=entry.source_id,
        version=entry.version,
        project_id=entry.project_source_id,
        consultant_id=entry.user_source_id,
        work_date=entry.work_date,
        amount=entry.amount,
        category=entry.category,
        billable=entry.billable,
        approved=entry.approved,
        approved_at=entry.approved_at,
        on_hold=on_hold,
        hold_reason=hold_reason,
        notes=entry.notes or None,
    )
