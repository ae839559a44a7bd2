"""The NetSuite side of the hub's ``ErpBillingPort``: canonical billing lines to time bills and
expense reports, through the connector's bulk path (batches, shared concurrency budget).

Employees are upserted by external id on first use and cached, so a consultant new to the
ERP never blocks a batch. The transaction date falls in the billing period the hub chose: the
work date when the work's own month is the period, else the first day of the later period
(an approval after the cutoff rolls the line forward).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from pshub.connectors.errors import RejectedError
from pshub.connectors.netsuite.schemas import ExpenseLine, PostResult, TimeBillLine
from pshub.domain.money import Money
from pshub.flows.ports import ErpBillingLine, ErpPostResult

if TYPE_CHECKING:
    from pshub.connectors.netsuite.client import NetSuiteConnector

EXPENSE_CATEGORY = "1"  # Travel; the expense's own category is kept in the memo
_ZERO = Decimal(0)


def transaction_date(line: ErpBillingLine) -> date:
    work = line.work_date
    if line.period == f"{work.year:04d}-{work.month:02d}":
        return work
    year, month = (int(x) for x in line.period.split("-"))
    return date(year, month, 1)


def employee_id(conn: NetSuiteConnector, ref: str, subsidiary_id: str) -> str:
    cache: dict[str, str] = conn.__dict__.setdefault("_employee_ids", {})
    if ref not in cache:
        first, _, last = ref.partition("-")
        cache[ref] = conn._upsert(
            "employee",
            f"employee:{ref}",
            {
                "firstName": first or ref,
                "lastName": last or ref,
                "entityId": ref,
                "subsidiary": {"id": subsidiary_id},
            },
        )
    return cache[ref]


def post_billing_lines(conn: NetSuiteConnector, lines: list[ErpBillingLine]) -> list[ErpPostResult]:
    results: dict[str, ErpPostResult] = {}
    bills: list[tuple[str, TimeBillLine]] = []
    expenses: list[tuple[str, ExpenseLine]] = []
    for line in lines:
        if line.employee is None:
            results[line.key] = ErpPostResult(
                key=line.key,
                ok=False,
                fields=("employee",),
                error="employee: the consultant has no ERP employee id (consultants.yaml)",
            )
            continue
        try:
            employee = employee_id(conn, line.employee, line.subsidiary_id)
        except RejectedError as exc:
            results[line.key] = ErpPostResult(
                key=line.key, ok=False, error=str(exc), fields=exc.fields
            )
            continue
        if line.kind == "time":
            bills.append((line.key, _time_bill(line, employee)))
        else:
            expenses.append((line.key, _expense(line, employee)))
    if bills:
        for (key, _), answer in zip(
            bills, conn.upsert_time_bills([b for _, b in bills]), strict=True
        ):
            results[key] = _result(key, answer)
    if expenses:
        for (key, _), answer in zip(
            expenses, conn.upsert_expenses([e for _, e in expenses]), strict=True
        ):
            results[key] = _result(key, answer)
    return [results[line.key] for line in lines]


def _time_bill(line: ErpBillingLine, employee: str) -> TimeBillLine:
    amount = Money.of(line.amount, line.currency)  # checks the amount and the currency
    rate = (
        Money.of(line.rate, line.currency) if line.rate is not None else Money.zero(line.currency)
    )
    # The line is the hub's own (typed, priced) and its Money is checked above, so the model
    # is built without pydantic validation: this runs once per billed entry.
    return TimeBillLine.model_construct(
        external_id=line.key,
        customer_job_id=line.job_id,
        employee_ref=employee,
        date=transaction_date(line),
        hours=line.hours or _ZERO,
        rate=rate,
        amount=amount,
        billable=line.billable,
        tax_code=line.tax_code,
        subsidiary_id=line.subsidiary_id,
        memo=line.memo,
        reverses=line.reverses,
    )


def _expense(line: ErpBillingLine, employee: str) -> ExpenseLine:
    return ExpenseLine(
        external_id=line.key if line.reverses is None else line.reverses,
        employee_ref=employee,
        customer_job_id=line.job_id,
        date=transaction_date(line),
        amount=Money.zero(line.currency) if line.reverses else Money.of(line.amount, line.currency),
        category_id=EXPENSE_CATEGORY,
        billable=line.billable and line.reverses is None,
        subsidiary_id=line.subsidiary_id,
        memo=line.memo,
    )


def _result(key: str, answer: PostResult) -> ErpPostResult:
    if answer.posted:
        return ErpPostResult(key=key, ok=True, erp_id=answer.internal_id)
    message = answer.error.message if answer.error else "refused by NetSuite"
    return ErpPostResult(key=key, ok=False, error=message, fields=answer.fields)
