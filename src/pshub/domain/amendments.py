"""Amendments: an approved change order turns contract version N into N+1, with its diff.

Pure (no I/O, no clock). A contract's *terms* are what a version fixes: the contract (price,
lines, dates) and the delivery plan sold with it (the project's budget and milestones). A
:class:`ChangeOrder` names only what it changes; :func:`amend` applies it, validates the result
(findings name the field) and computes the :class:`AmendmentDiff` as a value. Salesforce
changes price, lines and dates; Kantata changes budget and milestones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from pshub.domain.contracts import Contract, ContractLine
from pshub.domain.findings import Finding, Severity
from pshub.domain.money import Money, total
from pshub.domain.projects import Milestone, Project
from pshub.domain.sales import BillingModel

_FROZEN = ConfigDict(frozen=True, extra="forbid")
ChangeKind = Literal["added", "removed", "changed"]
T = TypeVar("T")


class ContractTerms(BaseModel):
    """One version of a contract: what was sold and the delivery plan that bills it."""

    model_config = _FROZEN

    contract: Contract
    budget: Money
    milestones: tuple[Milestone, ...] = ()

    @property
    def version(self) -> int:
        return self.contract.version


class ChangeOrder(BaseModel):
    """An approved change; ``None`` means "unchanged". Lines and milestones replace the whole
    set (a change order is stated as the new plan, as the CRM and the PSA hold it)."""

    model_config = _FROZEN

    contract_id: str
    source_system: str  # salesforce | kantata
    source_id: str  # the change's id in its source (change-order number, feed event)
    effective_date: date
    value: Money | None = None
    lines: tuple[ContractLine, ...] | None = None
    start_date: date | None = None
    end_date: date | None = None
    budget: Money | None = None
    milestones: tuple[Milestone, ...] | None = None
    distinct: bool | None = None  # added scope is a distinct good or service (if known)
    standalone_price: bool | None = None  # added scope is priced at its standalone price


class LineChange(BaseModel):
    model_config = _FROZEN

    line_id: str
    name: str
    kind: ChangeKind
    before: Money | None = None
    after: Money | None = None
    date_before: date | None = None
    date_after: date | None = None


class MilestoneChange(BaseModel):
    model_config = _FROZEN

    milestone_id: str
    name: str
    kind: ChangeKind
    before: Money | None = None
    after: Money | None = None
    due_before: date | None = None
    due_after: date | None = None


class AmendmentDiff(BaseModel):
    """What version ``to_version`` changed against ``from_version``."""

    model_config = _FROZEN

    contract_id: str
    from_version: int
    to_version: int
    price_before: Money
    price_after: Money
    budget_before: Money
    budget_after: Money
    start_before: date | None = None
    start_after: date | None = None
    end_before: date | None = None
    end_after: date | None = None
    lines: tuple[LineChange, ...] = ()
    milestones: tuple[MilestoneChange, ...] = ()

    @property
    def price_change(self) -> Money:
        return self.price_after - self.price_before

    @property
    def budget_change(self) -> Money:
        return self.budget_after - self.budget_before

    @property
    def added_scope(self) -> Money:
        """Value of lines added, plus increases of changed lines."""
        return total((_delta(c) for c in self.lines if _grows(c)), self.price_after.currency)

    @property
    def removed_scope(self) -> Money:
        """Value of lines removed, plus decreases of changed lines (a positive amount)."""
        shrink = (-_delta(c) for c in self.lines if not _grows(c))
        return total(shrink, self.price_after.currency)

    @property
    def empty(self) -> bool:
        return (
            self.price_before == self.price_after
            and self.budget_before == self.budget_after
            and (self.start_before, self.end_before) == (self.start_after, self.end_after)
            and not self.lines
            and not self.milestones
        )


def _delta(change: LineChange) -> Money:
    currency = (change.after or change.before or Money.zero("USD")).currency
    zero = Money.zero(currency)
    return (change.after or zero) - (change.before or zero)


def _grows(change: LineChange) -> bool:
    return not _delta(change).is_negative()


class Amendment(BaseModel):
    """The outcome of applying a change order: the new terms and their diff, or findings."""

    model_config = _FROZEN

    terms: ContractTerms
    diff: AmendmentDiff
    findings: tuple[Finding, ...] = ()

    @property
    def blocked(self) -> bool:
        return any(f.blocking for f in self.findings)


def initial_terms(contract: Contract, project: Project) -> ContractTerms:
    """Version 1 as the deal provisioned it."""
    return ContractTerms(contract=contract, budget=project.budget, milestones=project.milestones)


def amend(current: ContractTerms, change: ChangeOrder) -> Amendment:
    """Version N+1 from ``change``; the diff and findings (blocking ones stop the amendment)."""
    c = current.contract
    contract = c.model_copy(
        update={
            "version": c.version + 1,
            "value": change.value or c.value,
            "lines": c.lines if change.lines is None else change.lines,
            "start_date": change.start_date or c.start_date,
            "end_date": change.end_date or c.end_date,
        }
    )
    terms = ContractTerms(
        contract=contract,
        budget=change.budget or current.budget,
        milestones=current.milestones if change.milestones is None else change.milestones,
    )
    diff = diff_terms(current, terms)
    return Amendment(terms=terms, diff=diff, findings=tuple(validate(current, change, terms, diff)))


def diff_terms(before: ContractTerms, after: ContractTerms) -> AmendmentDiff:
    """The computed difference of two versions of one contract."""
    b, a = before.contract, after.contract
    return AmendmentDiff(
        contract_id=a.id,
        from_version=b.version,
        to_version=a.version,
        price_before=b.value,
        price_after=a.value,
        budget_before=before.budget,
        budget_after=after.budget,
        start_before=b.start_date,
        start_after=a.start_date,
        end_before=b.end_date,
        end_after=a.end_date,
        lines=_line_changes(b.lines, a.lines),
        milestones=_milestone_changes(before.milestones, after.milestones),
    )


def _line_changes(
    old: tuple[ContractLine, ...], new: tuple[ContractLine, ...]
) -> tuple[LineChange, ...]:
    return tuple(
        LineChange(
            line_id=i,
            name=_either(b, a).name,
            kind=kind,
            before=b.amount if b else None,
            after=a.amount if a else None,
            date_before=b.service_date if b else None,
            date_after=a.service_date if a else None,
        )
        for i, kind, b, a in _keyed_changes(
            {x.id: x for x in old},
            {x.id: x for x in new},
            lambda x: (x.amount, x.service_date, x.name),
        )
    )


def _milestone_changes(
    old: tuple[Milestone, ...], new: tuple[Milestone, ...]
) -> tuple[MilestoneChange, ...]:
    return tuple(
        MilestoneChange(
            milestone_id=i,
            name=_either(b, a).name,
            kind=kind,
            before=b.amount if b else None,
            after=a.amount if a else None,
            due_before=b.due_date if b else None,
            due_after=a.due_date if a else None,
        )
        for i, kind, b, a in _keyed_changes(
            {x.id: x for x in old},
            {x.id: x for x in new},
            lambda x: (x.amount, x.due_date, x.name),
        )
    )


def _either(before: T | None, after: T | None) -> T:
    """The side of a change that exists (the new one when both do)."""
    item = after if after is not None else before
    if item is None:
        raise ValueError("a change has a before or an after")
    return item


def _keyed_changes(
    was: dict[str, T], now: dict[str, T], facts: Callable[[T], tuple[Any, ...]]
) -> list[tuple[str, ChangeKind, T | None, T | None]]:
    """(id, kind, before, after) of what was removed, then added or changed, by id."""
    out: list[tuple[str, ChangeKind, T | None, T | None]] = [
        (i, "removed", item, None) for i, item in was.items() if i not in now
    ]
    for i, item in now.items():
        prior = was.get(i)
        if prior is None:
            out.append((i, "added", None, item))
        elif facts(prior) != facts(item):
            out.append((i, "changed", prior, item))
    return out


def validate(
    current: ContractTerms, change: ChangeOrder, terms: ContractTerms, diff: AmendmentDiff
) -> list[Finding]:
    """Findings against the change; each names the offending field."""
    found: list[Finding] = []
    c = terms.contract
    held = change.value or c.value

    def add(code: str, field: str, message: str, severity: Severity = Severity.ERROR) -> None:
        found.append(
            Finding(
                code=code,
                field=field,
                message=message,
                severity=severity,
                record=change.source_id,
                amount=held,
            )
        )

    if change.contract_id != current.contract.id:
        add("change.wrong_contract", "contract_id", f"change is for {change.contract_id}")
    currency = current.contract.value.currency
    for name, value in _amounts(change):
        if value.currency != currency:
            add("change.currency", name, f"{value} is not in the contract currency {currency}")
        elif value.is_negative():
            add("change.negative", name, f"{value} must not be negative")
    if found:
        return found
    if c.start_date and c.end_date and c.end_date < c.start_date:
        add("change.dates", "end_date", f"end date {c.end_date} is before start {c.start_date}")
    if c.billing_model is BillingModel.FIXED_FEE_MILESTONE:
        lines_total = total((line.amount for line in c.lines), currency)
        if c.lines and lines_total != c.value:
            add("change.lines_total", "lines", f"lines sum to {lines_total}, price is {c.value}")
        planned = total((m.amount for m in terms.milestones), currency)
        if terms.milestones and planned > c.value:
            add(
                "change.milestones_exceed_price",
                "milestones",
                f"milestones sum to {planned}, more than the price {c.value}",
            )
    if diff.empty:
        add("change.empty", "change", "the change alters nothing", Severity.WARNING)
    return found


def _amounts(change: ChangeOrder) -> list[tuple[str, Money]]:
    out: list[tuple[str, Money]] = []
    if change.value is not None:
        out.append(("value", change.value))
    if change.budget is not None:
        out.append(("budget", change.budget))
    out += [(f"lines[{n}].amount", line.amount) for n, line in enumerate(change.lines or ())]
    out += [(f"milestones[{n}].amount", m.amount) for n, m in enumerate(change.milestones or ())]
    return out


class ContractAmended(BaseModel):
    """Canonical event: contract ``contract_id`` is now at ``version``; revenue recognition
    (a contract modification) and the forecast consume it."""

    model_config = _FROZEN

    type: Literal["ContractAmended"] = "ContractAmended"
    event_id: str
    occurred_at: datetime
    correlation_id: str
    contract_id: str
    project_id: str
    version: int
    previous_version: int
    effective_date: date
    source_system: str
    source_id: str
    price_change: Money
    added_scope: Money
    removed_scope: Money
    distinct: bool | None = None
    standalone_price: bool | None = None
    diff: AmendmentDiff


def contract_amended(
    amendment: Amendment,
    change: ChangeOrder,
    project_id: str,
    correlation_id: str,
    occurred_at: datetime,
) -> ContractAmended:
    """The event for an applied amendment (stable id per contract version)."""
    diff = amendment.diff
    return ContractAmended(
        event_id=f"contract:{diff.contract_id}:v{diff.to_version}",
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        contract_id=diff.contract_id,
        project_id=project_id,
        version=diff.to_version,
        previous_version=diff.from_version,
        effective_date=change.effective_date,
        source_system=change.source_system,
        source_id=change.source_id,
        price_change=diff.price_change,
        added_scope=diff.added_scope,
        removed_scope=diff.removed_scope,
        distinct=change.distinct,
        standalone_price=change.standalone_price,
        diff=diff,
    )
