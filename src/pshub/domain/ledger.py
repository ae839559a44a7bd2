"""The billing-state ledger of one source line (a time entry or expense), as a pure machine.

    unbilled ──post──► posted ──invoice──► invoiced ──credit──► re-billable ──post──► posted …
        ▲                │
        └────reverse─────┘   (an edit or un-approval after posting: reverse, then post anew)

A line is never billed twice: at most one posting is live at any time, a version is posted at
most once, and the net invoiced amount (invoiced - credited) never exceeds the line's value.
Each transition returns the ledger entries to append (append-only; a correction is a reversal).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from pshub.domain.money import Money


class LineState(StrEnum):
    UNBILLED = "unbilled"
    POSTED = "posted"
    INVOICED = "invoiced"
    REBILLABLE = "rebillable"  # credited: may be billed again


class Action(StrEnum):
    POST = "post"
    REVERSE = "reverse"
    INVOICE = "invoice"
    CREDIT = "credit"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    key: str  # "<kind>:<source id>"
    version: int
    action: Action
    amount: Money
    reference: str | None = None  # ERP id, invoice or credit memo id
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SourceLine:
    """The current state of one source line, folded from its ledger entries."""

    key: str
    state: LineState = LineState.UNBILLED
    version: int | None = None  # version of the live posting / invoice
    amount: Money | None = None  # value of the live posting / invoice
    net_invoiced: Money | None = None  # invoiced - credited, over the line's whole life
    highest_version: int = 0


class LedgerRefusal(ValueError):
    """A transition the rules do not allow (e.g. invoicing what is not posted)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    line: SourceLine
    entries: tuple[LedgerEntry, ...]
    note: str | None = None  # why nothing happened, or what needs a person


def post(
    line: SourceLine, version: int, amount: Money | None, *, reference: str | None = None
) -> Outcome:
    """Post ``version`` of the line (``amount`` None: the version is no longer billable, e.g.
    un-approved). Redelivery of the posted version and stale versions change nothing."""
    if version < line.highest_version or (
        version == line.version and line.state in (LineState.POSTED, LineState.INVOICED)
    ):
        return Outcome(line, (), "already handled (redelivery or stale version)")
    highest = max(line.highest_version, version)
    # States are built directly rather than with dataclasses.replace, and only the one
    # returned: this runs for every entry of a month-end run.
    if line.state is LineState.INVOICED:
        return Outcome(
            _seen(line, highest),
            (),
            f"version {version} arrived after invoicing: a credit note "
            "is needed before it can be billed",
        )
    entries: list[LedgerEntry] = []
    current: SourceLine | None = None
    if line.state is LineState.POSTED:
        assert line.amount is not None and line.version is not None
        entries.append(
            LedgerEntry(
                line.key,
                line.version,
                Action.REVERSE,
                line.amount,
                note=f"superseded by version {version}",
            )
        )
        current = SourceLine(line.key, LineState.UNBILLED, None, None, line.net_invoiced, highest)
    if amount is None:
        if current is None:
            current = _seen(line, highest)
        return Outcome(current, tuple(entries), None if entries else "nothing to post")
    entries.append(LedgerEntry(line.key, version, Action.POST, amount, reference))
    posted = SourceLine(line.key, LineState.POSTED, version, amount, line.net_invoiced, highest)
    return Outcome(posted, tuple(entries))


def _seen(line: SourceLine, highest: int) -> SourceLine:
    """The line unchanged but for the highest version seen."""
    return SourceLine(line.key, line.state, line.version, line.amount, line.net_invoiced, highest)


def invoice(line: SourceLine, reference: str, value: Money) -> Outcome:
    """Invoice the live posting. Refused unless posted, or if it would bill above ``value``."""
    if line.state is not LineState.POSTED or line.amount is None or line.version is None:
        raise LedgerRefusal(f"{line.key}: only a posted line can be invoiced ({line.state})")
    net = (line.net_invoiced or Money.zero(line.amount.currency)) + line.amount
    if net > value:
        raise LedgerRefusal(
            f"{line.key}: invoicing {line.amount} would bill {net}, above its value {value}"
        )
    entry = LedgerEntry(line.key, line.version, Action.INVOICE, line.amount, reference)
    return Outcome(replace(line, state=LineState.INVOICED, net_invoiced=net), (entry,))


def credit(line: SourceLine, reference: str) -> Outcome:
    """A credit memo reverses the invoiced amount; the line may then be billed again, once."""
    if line.state is not LineState.INVOICED or line.amount is None or line.version is None:
        raise LedgerRefusal(f"{line.key}: only an invoiced line can be credited ({line.state})")
    assert line.net_invoiced is not None
    entry = LedgerEntry(line.key, line.version, Action.CREDIT, line.amount, reference)
    return Outcome(
        replace(
            line,
            state=LineState.REBILLABLE,
            net_invoiced=line.net_invoiced - line.amount,
            version=None,
            amount=None,
            highest_version=line.highest_version,
        ),
        (entry,),
    )


def rebill(line: SourceLine, version: int, amount: Money, reference: str | None = None) -> Outcome:
    """Post a credited line again (its next version, or the same work re-priced)."""
    if line.state is not LineState.REBILLABLE:
        return Outcome(line, (), f"{line.key} is {line.state.value}, not re-billable")
    entry = LedgerEntry(line.key, version, Action.POST, amount, reference, note="re-bill")
    return Outcome(
        replace(
            line,
            state=LineState.POSTED,
            version=version,
            amount=amount,
            highest_version=max(line.highest_version, version),
        ),
        (entry,),
    )


def fold(key: str, entries: list[LedgerEntry]) -> SourceLine:
    """Rebuild a line's state from its ledger entries (in the order they were appended)."""
    line = SourceLine(key)
    for e in entries:
        hv = max(line.highest_version, e.version)
        if e.action is Action.POST:
            line = replace(
                line, state=LineState.POSTED, version=e.version, amount=e.amount, highest_version=hv
            )
        elif e.action is Action.REVERSE:
            line = replace(
                line, state=LineState.UNBILLED, version=None, amount=None, highest_version=hv
            )
        elif e.action is Action.INVOICE:
            net = (line.net_invoiced or Money.zero(e.amount.currency)) + e.amount
            line = replace(line, state=LineState.INVOICED, net_invoiced=net, highest_version=hv)
        elif e.action is Action.CREDIT:
            assert line.net_invoiced is not None
            line = replace(
                line,
                state=LineState.REBILLABLE,
                version=None,
                amount=None,
                net_invoiced=line.net_invoiced - e.amount,
                highest_version=hv,
            )
    return line
