"""T&M invoicing and credit notes: which posted lines go on which invoice, and what a credit
memo gives back.

:func:`group_lines` splits a project's invoiceable lines into invoices by the contract's
grouping (one per project, per purchase order, per work month); :func:`apply_cap` keeps the
invoiced total within the not-to-exceed cap, the rest waits with a finding. :func:`invoice_id`
hashes the group's lines and how often each was invoiced before, so a replay finds the same
invoice and a re-bill after a credit gets a new one. :func:`match_credit` reads which source
lines a credit memo credits in full (they become re-billable) and what it credits that the hub
cannot place (a finding with its amount). :func:`may_invoice` is the re-bill rule: a credited
line may be billed again exactly once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from pshub.domain.findings import Finding
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")
MAX_REBILLS = 1


class Grouping(StrEnum):
    PER_PROJECT = "per_project"
    PER_PO = "per_po"
    PER_MONTH = "per_month"


class PurchaseOrder(BaseModel):
    """A customer PO covering work from ``valid_from`` (inclusive) until the next one."""

    model_config = _FROZEN

    number: str = Field(min_length=1)
    valid_from: date


class TmInvoicingRules(BaseModel):
    """The T&M part of the invoicing policy."""

    model_config = _FROZEN

    default_grouping: Grouping = Grouping.PER_PROJECT
    service_lines: dict[str, Grouping] = {}
    contracts: dict[str, Grouping] = {}
    purchase_orders: dict[str, tuple[PurchaseOrder, ...]] = {}  # contract id -> POs
    time_item_id: str = "1"
    expense_item_id: str = "2"

    def grouping(self, contract_id: str, service_line: str) -> Grouping:
        """The contract's own grouping, else its service line's, else the default."""
        return self.contracts.get(
            contract_id, self.service_lines.get(service_line, self.default_grouping)
        )

    def po_for(self, contract_id: str, day: date) -> str | None:
        chosen = None
        for po in sorted(self.purchase_orders.get(contract_id, ()), key=lambda p: p.valid_from):
            if po.valid_from <= day:
                chosen = po.number
        return chosen


@dataclass(frozen=True, slots=True)
class InvoiceableLine:
    """A posted (or credited, re-billable) source line with what its invoice line shows."""

    source_key: str  # "<kind>:<source id>"
    version: int
    amount: Money  # billable value of the live posting
    period: str  # billing period of the posting (YYYY-MM)
    work_date: date
    hours: Decimal | None = None
    rate: Money | None = None
    prior_invoices: int = 0  # how often the line was invoiced before
    description: str = ""

    @property
    def kind(self) -> str:
        return self.source_key.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class InvoiceGroup:
    key: str  # "<project>:<run period>:<grouping value>"
    label: str  # the grouping value: project, PO number or month
    lines: tuple[InvoiceableLine, ...]

    @property
    def total(self) -> Money:
        money = Money.zero(self.lines[0].amount.currency)
        for line in self.lines:
            money = money + line.amount
        return money


def group_lines(
    project_id: str,
    period: str,
    contract_id: str,
    grouping: Grouping,
    rules: TmInvoicingRules,
    lines: Sequence[InvoiceableLine],
) -> tuple[list[InvoiceGroup], list[Finding]]:
    """Invoices for the lines (sorted, deterministic) and the lines no group can take."""
    groups: dict[str, list[InvoiceableLine]] = {}
    findings: list[Finding] = []
    for line in sorted(lines, key=lambda x: (x.work_date, x.source_key)):
        label: str | None = project_id
        if grouping is Grouping.PER_MONTH:
            label = f"{line.work_date:%Y-%m}"
        elif grouping is Grouping.PER_PO:
            label = rules.po_for(contract_id, line.work_date)
            if label is None:
                findings.append(
                    Finding(
                        code="invoice.no_purchase_order",
                        field="invoicing.tm_invoicing.purchase_orders",
                        message=f"no purchase order of contract {contract_id} covers "
                        f"work on {line.work_date}",
                        record=line.source_key,
                        amount=line.amount,
                    )
                )
                continue
        groups.setdefault(label or project_id, []).append(line)
    return [
        InvoiceGroup(key=f"{project_id}:{period}:{label}", label=label, lines=tuple(found))
        for label, found in sorted(groups.items())
    ], findings


def apply_cap(
    groups: list[InvoiceGroup], invoiced: Money, cap: Money | None
) -> tuple[list[InvoiceGroup], list[Finding]]:
    """Keep the total invoiced within the cap (``invoiced`` already counts against it)."""
    if cap is None:
        return groups, []
    room = cap - invoiced
    kept: list[InvoiceGroup] = []
    findings: list[Finding] = []
    for group in groups:
        fits: list[InvoiceableLine] = []
        for line in group.lines:
            if line.amount <= room:
                fits.append(line)
                room = room - line.amount
            else:
                findings.append(
                    Finding(
                        code="invoice.cap_exceeded",
                        field="contract.value",
                        message=f"invoicing {line.amount} would exceed the not-to-exceed cap "
                        f"{cap} ({invoiced} invoiced before this run)",
                        record=line.source_key,
                        amount=line.amount,
                    )
                )
        if fits:
            kept.append(InvoiceGroup(group.key, group.label, tuple(fits)))
    return kept, findings


def invoice_id(group: InvoiceGroup) -> str:
    """Same lines, same invoice (a replay updates it); a re-bill makes a new one."""
    parts = sorted(f"{x.source_key}@v{x.version}#{x.prior_invoices}" for x in group.lines)
    digest = hashlib.sha1("|".join(parts).encode(), usedforsecurity=False).hexdigest()[:16]
    return canonical_id("invoice", "tm", group.key, digest)


def may_invoice(invoices: int, credits: int) -> bool:
    """Nothing live on an invoice, and at most one re-bill after a credit."""
    return invoices == credits and invoices <= MAX_REBILLS


# --- credit notes ------------------------------------------------------------------------------

_KEY = re.compile(r"^\[((?:time|expense):[^\]]+)\]")


def line_description(source_key: str, text: str) -> str:
    """The invoice line's description starts with its source key, so a credit memo made
    from the invoice in the ERP (which copies the lines) says which lines it credits."""
    return f"[{source_key}] {text}"[:300]


def source_key_of(description: str | None) -> str | None:
    found = _KEY.match(description or "")
    return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class CreditLine:
    description: str | None
    amount: Money


@dataclass(frozen=True, slots=True)
class CreditMatch:
    credited: tuple[str, ...]  # source keys credited in full: re-billable
    findings: tuple[Finding, ...]  # credits the hub cannot return to re-billable


def match_credit(
    memo_id: str, memo_lines: Sequence[CreditLine], invoice_lines: dict[str, Money]
) -> CreditMatch:
    """Which of the invoice's lines the memo credits in full.

    A memo line naming one of the invoice's lines with its full amount credits that line. A
    memo whose total equals the invoice's total without naming lines credits all of them.
    Anything else (a part of a line, a lump sum) is a price adjustment: nothing becomes
    re-billable, and a finding says how much a person should look at.
    """
    if not memo_lines:
        return CreditMatch((), ())
    currency = memo_lines[0].amount.currency
    named = [(source_key_of(x.description), x) for x in memo_lines]
    if all(key is None for key, _ in named) and invoice_lines:
        whole = sum((m.amount for m in invoice_lines.values()), Decimal(0))
        if sum((x.amount.amount for x in memo_lines), Decimal(0)) == whole:
            return CreditMatch(tuple(sorted(invoice_lines)), ())
    credited: list[str] = []
    findings: list[Finding] = []
    for key, line in named:
        full = invoice_lines.get(key or "")
        if key is not None and full is not None and line.amount == full and key not in credited:
            credited.append(key)
            continue
        findings.append(
            Finding(
                code="credit.partial" if full is not None else "credit.unmatched",
                field="creditMemo.item",
                message=f"credit memo {memo_id} credits {line.amount} "
                + (f"of {key} (invoiced {full})" if full is not None else "not tied to a line")
                + ": a price adjustment, nothing becomes re-billable",
                record=key or memo_id,
                amount=Money.of(line.amount.amount, currency),
            )
        )
    return CreditMatch(tuple(credited), tuple(findings))
