"""The hub's billing lines -> NetSuite ``timeBill`` and ``expenseReport`` bodies: plain functions.

Each body is built straight from the :class:`~pshub.flows.ports.ErpBillingLine`, with no
intermediate :class:`~.schemas.TimeBillLine` / :class:`~.schemas.ExpenseLine` (month-end posts
tens of thousands of lines and this runs once per line). The bodies are the very ones
:func:`.ledger_mapping.time_bill_body` and :func:`.ledger_mapping.expense_body` write for the
models ``billing_port`` used to build, key for key and in the same order (a test compares them).

Reference objects (``{"id": ...}``) come from a :class:`Refs` cache shared by the bodies of one
post: the same internal id is one dict, which keeps the number of live objects (and the
garbage collector's work) per line low. Bodies are only ever encoded, never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pshub.domain.ids import external_id
from pshub.domain.money import check_currency, to_decimal
from pshub.flows.ports import ErpBillingLine

EXPENSE_CATEGORY = "1"  # Travel; the expense's own category is kept in the memo
TIME_ITEM = "1"  # the service item every time bill carries (TimeBillLine's default)
_ZERO = Decimal(0)


class Refs(dict[str, dict[str, str]]):
    """``{"id": value}`` reference objects, one per value (shared by the bodies of one post)."""

    def __missing__(self, value: str) -> dict[str, str]:
        made = self[value] = {"id": value}
        return made


def transaction_date(line: ErpBillingLine) -> date:
    """The work date when its month is the billing period, else the period's first day."""
    work = line.work_date
    if line.period == f"{work.year:04d}-{work.month:02d}":
        return work
    year, month = (int(x) for x in line.period.split("-"))
    return date(year, month, 1)


def checked_rate(line: ErpBillingLine) -> Decimal:
    """The rate sent for a time line, after the checks ``Money.of`` made on amount and rate.

    The amount is not sent (NetSuite derives it from hours x rate), but a line whose amount,
    rate or currency cannot be money is refused with the same ``MoneyError`` as before.
    """
    to_decimal(line.amount)
    check_currency(line.currency)
    return _ZERO if line.rate is None else to_decimal(line.rate)


@dataclass(frozen=True, slots=True)
class CheckedExpense:
    """An expense line with its employee, transaction day and the amount to send."""

    line: ErpBillingLine
    employee: str
    day: str
    amount: Decimal

    @property
    def canonical(self) -> str:
        """The id of the report upserted: a reversal updates the original's."""
        line = self.line
        return line.key if line.reverses is None else line.reverses


def checked_expense(line: ErpBillingLine, employee: str) -> CheckedExpense:
    """The day and the amount (zero for a reversal), checked as ``Money`` checked them."""
    day = transaction_date(line).isoformat()
    if line.reverses:
        check_currency(line.currency)
        return CheckedExpense(line, employee, day, _ZERO)
    amount = to_decimal(line.amount)
    check_currency(line.currency)
    return CheckedExpense(line, employee, day, amount)


def time_bill_body(line: ErpBillingLine, employee: str, refs: Refs) -> dict[str, Any]:
    """The ``timeBill`` a time line upserts (``rate`` from :func:`checked_rate`).

    A reversal follows NetSuite's practice of correcting the original time bill: the original
    (by its external id) is updated to zero hours and not billable; no second record is made.
    """
    rate = checked_rate(line)
    reverses = line.reverses
    body: dict[str, Any] = {
        "externalId": external_id(reverses or line.key),
        "employee": refs[employee],
        "customer": refs[line.job_id],
        "tranDate": transaction_date(line).isoformat(),
        "hours": line.hours or _ZERO,
        "rate": rate,
        "isBillable": line.billable,
        "item": refs[TIME_ITEM],
        "subsidiary": refs[line.subsidiary_id],
        "memo": line.memo,
    }
    if reverses is not None:
        body["hours"] = _ZERO
        body["isBillable"] = False
        body["memo"] = f"Reversed by {external_id(line.key)}"
    return body


def expense_body(checked: CheckedExpense, currency_id: str, refs: Refs) -> dict[str, Any]:
    """An expense report with one expense line.

    A reversal updates the original report (by its external id) to a zero, unbilled amount.
    """
    line = checked.line
    expense = {
        "expenseDate": checked.day,
        "category": refs[EXPENSE_CATEGORY],
        "amount": checked.amount,
        "currency": refs[currency_id],
        "isBillable": line.billable and line.reverses is None,
        "customer": refs[line.job_id],
        "memo": line.memo,
    }
    return {
        "externalId": external_id(checked.canonical),
        "entity": refs[checked.employee],
        "tranDate": checked.day,
        "subsidiary": refs[line.subsidiary_id],
        "memo": line.memo,
        "expense": {"items": [expense]},
    }
