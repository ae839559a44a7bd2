"""Small builders shared by the revenue tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pshub.domain.revenue import JournalEntry, RevenueCase, RevenueResult, run_contract


def run(data: dict[str, Any]) -> RevenueResult:
    """Validate a case given as plain data (like a YAML file) and run it."""
    return run_contract(RevenueCase.model_validate(data))


def net_by_account(entries: list[JournalEntry] | tuple[JournalEntry, ...]) -> dict[str, Decimal]:
    """Debit minus credit per account over ``entries``."""
    out: dict[str, Decimal] = {}
    for entry in entries:
        for line in entry.lines:
            out[line.account.value] = (
                out.get(line.account.value, Decimal(0)) + line.debit.amount - line.credit.amount
            )
    return {k: v for k, v in out.items() if v != 0}


def lines(entry: JournalEntry) -> list[tuple[str, str, str]]:
    """(account, debit, credit) of each line, amounts as plain strings."""
    return [(ln.account.value, str(ln.debit.amount), str(ln.credit.amount)) for ln in entry.lines]
