"""The NetSuite side of the hub's ``ErpBillingPort``: canonical billing lines to time bills and
expense reports, through the connector's bulk path (batches, shared concurrency budget).

Employees are upserted by external id on first use and cached, so a consultant new to the
ERP never blocks a batch. The transaction date falls in the billing period the hub chose: the
work date when the work's own month is the period, else the first day of the later period
(an approval after the cutoff rolls the line forward).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pshub.connectors.errors import RejectedError
from pshub.connectors.netsuite.billing_mapping import (
    CheckedExpense,
    Refs,
    checked_expense,
    expense_body,
    time_bill_body,
)
from pshub.connectors.netsuite.bulk import Item
from pshub.connectors.netsuite.schemas import PostResult
from pshub.flows.ports import ErpBillingLine, ErpPostResult

if TYPE_CHECKING:
    from pshub.connectors.netsuite.client import NetSuiteConnector


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
    refs = Refs()
    bills: list[Item] = []
    expenses: list[CheckedExpense] = []
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
            bills.append((line.key, time_bill_body(line, employee, refs)))
        else:
            expenses.append(checked_expense(line, employee))
    if bills:
        answers = conn.bulk.upsert("timeBill", bills)
        _collect(results, [key for key, _body in bills], answers)
    if expenses:
        answers = conn.bulk.upsert("expenseReport", _expense_items(conn, expenses, refs))
        _collect(results, [e.line.key for e in expenses], answers)
    return [results[line.key] for line in lines]


def _expense_items(
    conn: NetSuiteConnector, expenses: list[CheckedExpense], refs: Refs
) -> list[Item]:
    """Each report keyed by the canonical id it upserts (a reversal's is the original's)."""
    currency = {code: conn.currency_id(code) for code in {e.line.currency for e in expenses}}
    return [(e.canonical, expense_body(e, currency[e.line.currency], refs)) for e in expenses]


def _collect(results: dict[str, ErpPostResult], keys: list[str], answers: list[PostResult]) -> None:
    for key, answer in zip(keys, answers, strict=True):
        results[key] = _result(key, answer)


def _result(key: str, answer: PostResult) -> ErpPostResult:
    if answer.posted:
        return ErpPostResult(key=key, ok=True, erp_id=answer.internal_id)
    message = answer.error.message if answer.error else "refused by NetSuite"
    return ErpPostResult(key=key, ok=False, error=message, fields=answer.fields)
