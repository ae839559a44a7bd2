"""Snapshots: each forecast run frozen, versioned and named by its content; diffs explain moves.

A snapshot's ``id`` is a digest of its content (same inputs and as-of month, same id), its
``version`` counts the runs before it (``previous.version + 1``). :func:`diff` compares two
snapshots source record by source record and cell by cell, so the movements of a cell sum
exactly to the change of that cell, and names the cause of each movement.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from pshub.domain.forecast.months import Month, month_index
from pshub.domain.forecast.results import (
    Category,
    CellKey,
    ForecastSnapshotData,
    SourceKind,
    trusted_money,
)
from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ForecastSnapshot(BaseModel):
    """An immutable forecast run: content-derived ``id``, ``version`` in the run history."""

    model_config = _FROZEN

    id: str
    version: int = Field(ge=1)
    previous_id: str | None
    data: ForecastSnapshotData


def take_snapshot(
    data: ForecastSnapshotData, previous: ForecastSnapshot | None = None
) -> ForecastSnapshot:
    """Freeze ``data`` as the next version after ``previous`` (version 1 when None)."""
    return ForecastSnapshot(
        id=content_id(data),
        version=1 if previous is None else previous.version + 1,
        previous_id=None if previous is None else previous.id,
        data=data,
    )


def content_id(data: ForecastSnapshotData) -> str:
    """``fcs_`` + the first 24 hex digits of a SHA-256 over a canonical text of ``data``."""
    h = hashlib.sha256(f"{data.as_of_month}|{data.horizon_months}\n".encode())
    for cell in data.cells:
        h.update(f"C|{'|'.join(cell.key)}|{cell.amount.amount}\n".encode())
        for e in cell.lineage:
            h.update(f"{e.source_kind}|{e.source_id}|{e.amount.amount}|{e.refs}\n".encode())
    for risk in data.at_risk:
        h.update(
            f"R|{risk.legal_entity}|{risk.service_line}|{risk.month}|{risk.amount!r}|"
            f"{risk.needed_hours}|{risk.unstaffed_hours}\n".encode()
        )
    for driver in (*data.contracts, *data.milestones, *data.opportunities):
        h.update(f"D|{driver!r}\n".encode())
    for finding in data.findings:
        h.update(f"F|{finding.code}|{finding.message}|{finding.amount!r}\n".encode())
    return "fcs_" + h.hexdigest()[:24]


class Cause(StrEnum):
    NEW_DEAL = "new_deal"  # a new contract, or a new opportunity in the pipeline
    OPPORTUNITY_CLOSED = "opportunity_lost_or_closed"  # no longer open (lost, or won)
    SLIPPED_MILESTONE = "slipped_milestone"  # a milestone's due month moved
    CHANGE_ORDER = "change_order"  # the contract value changed
    ACTUALS_LANDED = "actuals_landed"  # a month closed / revenue was recognised
    CONTRACT_ENDED = "contract_ended"  # the contract left the inputs (cancelled, ended)
    HORIZON_EXTENDED = "horizon_extended"  # the month was beyond the old run's horizon
    RE_ESTIMATE = "re_estimate"  # plans, hours, stage, amount or dates re-estimated


class Movement(BaseModel):
    """How much one source record moved one cell, and why."""

    model_config = _FROZEN

    cause: Cause
    source_kind: SourceKind
    source_id: str
    legal_entity: str
    service_line: str
    month: Month
    category: Category
    before: Money
    after: Money
    detail: str

    @property
    def delta(self) -> Money:
        return self.after - self.before


_Index = dict[tuple[SourceKind, str], dict[CellKey, tuple[Decimal, tuple[str, ...]]]]


def diff(old: ForecastSnapshot, new: ForecastSnapshot) -> list[Movement]:
    """Every non-zero change of a source's contribution to a cell, with its cause."""
    before, after = _index(old.data), _index(new.data)
    why = _Classifier(old.data, new.data)
    out: list[Movement] = []
    for source in sorted(before.keys() | after.keys()):
        was, now = before.get(source, {}), after.get(source, {})
        for key in sorted(was.keys() | now.keys()):
            a, refs = was.get(key, (Decimal(0), ()))
            b, refs = now.get(key, (Decimal(0), refs))
            if a != b:
                cause, detail = why.classify(source[0], source[1], refs, key)
                out.append(_movement(cause, source, key, a, b, detail))
    return out


def totals_by_cause(movements: list[Movement]) -> dict[tuple[Cause, str], Money]:
    """Net movement per (cause, currency)."""
    sums: dict[tuple[Cause, str], Decimal] = defaultdict(Decimal)
    for m in movements:
        sums[(m.cause, m.before.currency)] += m.after.amount - m.before.amount
    return {k: trusted_money(v, k[1]) for k, v in sorted(sums.items())}


def _index(data: ForecastSnapshotData) -> _Index:
    out: _Index = defaultdict(dict)
    for cell in data.cells:
        key = cell.key
        for e in cell.lineage:
            out[(e.source_kind, e.source_id)][key] = (e.amount.amount, e.refs)
    return out


def _movement(
    cause: Cause,
    source: tuple[SourceKind, str],
    key: CellKey,
    before: Decimal,
    after: Decimal,
    detail: str,
) -> Movement:
    return Movement(
        cause=cause,
        source_kind=source[0],
        source_id=source[1],
        legal_entity=key.legal_entity,
        service_line=key.service_line,
        month=key.month,
        category=key.category,
        before=trusted_money(before, key.currency),
        after=trusted_money(after, key.currency),
        detail=detail,
    )


class _Classifier:
    """Names the cause of a movement from the drivers recorded in both snapshots."""

    def __init__(self, old: ForecastSnapshotData, new: ForecastSnapshotData) -> None:
        self.first = month_index(new.as_of_month)
        self.old_last = month_index(old.as_of_month) + old.horizon_months - 1
        self.old_c = {c.id: c for c in old.contracts}
        self.new_c = {c.id: c for c in new.contracts}
        self.old_m = {m.id: m for m in old.milestones}
        self.new_m = {m.id: m for m in new.milestones}
        self.old_o = {o.id: o for o in old.opportunities}
        self.new_o = {o.id: o for o in new.opportunities}
        self.won = {c.opportunity_id: c.id for c in new.contracts if c.opportunity_id}

    def classify(
        self, kind: SourceKind, sid: str, refs: tuple[str, ...], key: CellKey
    ) -> tuple[Cause, str]:
        cause, detail = self._classify(kind, sid, refs, key)
        if cause is Cause.RE_ESTIMATE and month_index(key.month) > self.old_last:
            return Cause.HORIZON_EXTENDED, f"{key.month} entered the horizon"
        return cause, detail

    def _classify(
        self, kind: SourceKind, sid: str, refs: tuple[str, ...], key: CellKey
    ) -> tuple[Cause, str]:
        if kind is SourceKind.ACTUAL:
            return Cause.ACTUALS_LANDED, f"recognised in {key.month}"
        if month_index(key.month) < self.first:
            return Cause.ACTUALS_LANDED, f"{key.month} closed"
        if kind is SourceKind.OPPORTUNITY:
            return self._opportunity(sid)
        contract = sid if kind is SourceKind.CONTRACT else refs[0]
        if kind is SourceKind.MILESTONE:
            found = self._milestone(sid)
            if found is not None:
                return found
        return self._contract(contract)

    def _opportunity(self, oid: str) -> tuple[Cause, str]:
        was, now = self.old_o.get(oid), self.new_o.get(oid)
        if was is None:
            return Cause.NEW_DEAL, "new opportunity"
        if now is None:
            won = self.won.get(oid)
            return Cause.OPPORTUNITY_CLOSED, f"won as {won}" if won else "lost or closed"
        changes = [
            f"{name} {a} -> {b}"
            for name, a, b in (
                ("stage", was.stage, now.stage),
                ("amount", was.amount, now.amount),
                ("start", was.start_month, now.start_month),
                ("duration", was.duration_months, now.duration_months),
            )
            if a != b
        ]
        return Cause.RE_ESTIMATE, "; ".join(changes) or "re-spread"

    def _milestone(self, mid: str) -> tuple[Cause, str] | None:
        was, now = self.old_m.get(mid), self.new_m.get(mid)
        if was is None or now is None:
            return None
        if now.recognised and not was.recognised:
            return Cause.ACTUALS_LANDED, "milestone recognised"
        if was.month != now.month:
            return Cause.SLIPPED_MILESTONE, f"due {was.month} -> {now.month}"
        return None

    def _contract(self, cid: str) -> tuple[Cause, str]:
        was, now = self.old_c.get(cid), self.new_c.get(cid)
        if was is None:
            source = f" (from {now.opportunity_id})" if now and now.opportunity_id else ""
            return Cause.NEW_DEAL, f"new contract {cid}{source}"
        if now is None:
            return Cause.CONTRACT_ENDED, f"contract {cid} no longer in the inputs"
        if was.value != now.value:
            return Cause.CHANGE_ORDER, f"value {was.value} -> {now.value}"
        if was.recognised_to_date != now.recognised_to_date:
            return (
                Cause.ACTUALS_LANDED,
                f"recognised {was.recognised_to_date} -> {now.recognised_to_date}",
            )
        return Cause.RE_ESTIMATE, "plan or hours re-estimated"
