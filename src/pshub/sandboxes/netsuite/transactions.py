"""Time, expenses and journals: ``timeBill``, ``expenseReport`` and ``journalEntry``.

Followed: NetSuite Records Catalog / Schema Browser field ids.
- timeBill: ``employee`` (required), ``customer`` (customer or project), ``caseTaskEvent``,
  ``tranDate``, ``hours`` (Duration, required; the sandbox takes decimal hours), ``rate``,
  ``price`` (price level), ``isBillable``, ``item`` (service item; required when a customer
  is set: "If you select a customer or job, you must also select a service item"),
  ``memo``, ``subsidiary`` (defaults to the employee's), ``approvalStatus``,
  ``supervisorApproval``, ``externalId``. Hours may not be negative.
- expenseReport: ``entity`` (employee), ``tranDate``, ``postingPeriod``, ``memo``,
  ``approvalStatus``, ``supervisorApproval``, ``accountingApproval``, and the ``expense``
  sublist (``expenseDate``, ``category``, ``amount``, ``currency``, ``isBillable``,
  ``customer``, ``memo``, ``taxCode``); ``total`` is computed.
- journalEntry: ``subsidiary``, ``tranDate``, ``postingPeriod``, ``memo``, ``currency``,
  ``approvalStatus`` and the ``line`` sublist (``account``, ``debit``, ``credit``, ``memo``,
  ``entity``). An unbalanced journal is refused (USER_ERROR on ``line``; wording after
  NetSuite's "Transaction was not in balance" GL validation message).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pshub.sandboxes.netsuite.errors import ErrorDetail
from pshub.sandboxes.netsuite.ledger import (
    APPROVAL_FIELD,
    TRAN_COMMON,
    amount,
    default_approval,
    default_posting,
    entity_exists,
    known_approval,
    locked_while_pending,
    name_entity,
    open_period,
    ref_id,
)
from pshub.sandboxes.netsuite.records import (
    FieldSpec,
    Lookup,
    RecordType,
    RuleContext,
    fields,
    invalid,
    register,
)


def _from_employee(name: str) -> Any:
    def fill(record: dict[str, Any], store: Lookup) -> None:
        employee = store.get("employee", ref_id(record, name) or "") or {}
        if record.get("subsidiary") is None and employee.get("subsidiary"):
            record["subsidiary"] = employee["subsidiary"]
        sub = store.get("subsidiary", ref_id(record, "subsidiary") or "") or {}
        if "currency" in record or not sub.get("currency"):
            return
        if name == "entity":  # expense reports carry a currency, time bills do not
            record["currency"] = sub["currency"]

    return fill


def _hours(ctx: RuleContext) -> list[ErrorDetail]:
    hours = ctx.record.get("hours")
    if hours is not None and amount(hours) < 0:
        return [invalid("hours", hours)]
    return []


def _service_item(ctx: RuleContext) -> list[ErrorDetail]:
    if ctx.record.get("customer") and not ctx.record.get("item"):
        return [ErrorDetail("Please enter value(s) for: Service Item", "USER_ERROR", "item")]
    return []


TIME_BILL = register(
    RecordType(
        "timeBill",
        fields(
            FieldSpec("employee", "ref", label="Employee", required=True, ref="employee"),
            FieldSpec("customer", "ref", label="Customer:Project"),
            FieldSpec("caseTaskEvent", "ref", label="Case/Task/Event"),
            FieldSpec("tranDate", "date", label="Date", required=True),
            FieldSpec("hours", "decimal", label="Duration", required=True),
            FieldSpec("rate", "decimal", label="Rate"),
            FieldSpec("price", "ref", label="Price Level"),
            FieldSpec("isBillable", "bool", label="Billable"),
            FieldSpec("item", "ref", label="Service Item", ref="serviceSaleItem"),
            FieldSpec("memo", label="Memo"),
            FieldSpec("subsidiary", "ref", label="Subsidiary", ref="subsidiary"),
            FieldSpec("location", "ref", label="Location"),
            FieldSpec("department", "ref", label="Department"),
            FieldSpec("class", "ref", label="Class"),
            FieldSpec("externalId", label="External ID", max_length=255),
            FieldSpec("supervisorApproval", "bool", label="Supervisor Approval"),
            APPROVAL_FIELD,
        ),
        ref_name="id",
        id_sequence="transaction",
        custom_prefix="custcol",
        defaults=(_from_employee("employee"), default_approval, name_entity("customer")),
        rules=(_hours, _service_item, entity_exists("customer", "Customer"), known_approval),
    )
)


def _expense_lines(record: dict[str, Any], _store: Lookup) -> None:
    lines = (record.get("expense") or {}).get("items", [])
    for n, line in enumerate(lines, start=1):
        line["line"] = n
    record["total"] = sum((amount(line.get("amount")) for line in lines), Decimal(0))


def _expense_required(ctx: RuleContext) -> list[ErrorDetail]:
    errors = []
    for n, line in enumerate((ctx.record.get("expense") or {}).get("items", [])):
        for name, label in (("category", "Category"), ("amount", "Amount")):
            if line.get(name) is None:
                errors.append(
                    ErrorDetail(
                        f"Please enter value(s) for: {label}",
                        "USER_ERROR",
                        path=f"expense.items[{n}].{name}",
                    )
                )
    return errors


EXPENSE_LINE = fields(
    FieldSpec("line", "number", computed=True),
    FieldSpec("expenseDate", "date", label="Date"),
    FieldSpec("category", "ref", label="Category", ref="expenseCategory"),
    FieldSpec("amount", "decimal", label="Amount"),
    FieldSpec("currency", "ref", label="Currency", ref="currency"),
    FieldSpec("foreignAmount", "decimal", label="Foreign Amount"),
    FieldSpec("isBillable", "bool", label="Billable"),
    FieldSpec("customer", "ref", label="Customer:Project"),
    FieldSpec("memo", label="Memo"),
    FieldSpec("taxCode", "ref", label="Tax Code"),
)

EXPENSE_REPORT = register(
    RecordType(
        "expenseReport",
        fields(
            FieldSpec("entity", "ref", label="Employee", required=True, ref="employee"),
            *TRAN_COMMON,
            FieldSpec("expense", "sublist", label="Expenses", lines=EXPENSE_LINE),
            FieldSpec("total", "decimal", label="Total", computed=True),
            FieldSpec("supervisorApproval", "bool", label="Supervisor Approval"),
            FieldSpec("accountingApproval", "bool", label="Accounting Approval"),
            APPROVAL_FIELD,
        ),
        ref_name="tranId",
        id_sequence="transaction",
        custom_prefix="custbody",
        defaults=(_from_employee("entity"), default_posting, default_approval, _expense_lines),
        rules=(_expense_required, open_period, known_approval),
        guards=(locked_while_pending,),
        extra={"tran_prefix": "ER"},
    )
)


def _journal_lines(record: dict[str, Any], _store: Lookup) -> None:
    for n, line in enumerate((record.get("line") or {}).get("items", []), start=1):
        line["line"] = n


def _balanced(ctx: RuleContext) -> list[ErrorDetail]:
    lines = (ctx.record.get("line") or {}).get("items", [])
    errors = []
    for n, line in enumerate(lines):
        debit, credit = amount(line.get("debit")), amount(line.get("credit"))
        if line.get("account") is None:
            errors.append(
                ErrorDetail(
                    "Please enter value(s) for: Account", "USER_ERROR", f"line.items[{n}].account"
                )
            )
        if (debit > 0) == (credit > 0) or debit < 0 or credit < 0:
            errors.append(
                ErrorDetail(
                    "Each journal line needs either a positive debit or a positive credit.",
                    "USER_ERROR",
                    path=f"line.items[{n}]",
                )
            )
    debits = sum((amount(line.get("debit")) for line in lines), Decimal(0))
    credits = sum((amount(line.get("credit")) for line in lines), Decimal(0))
    if not lines or debits != credits:
        errors.append(
            ErrorDetail(
                f"Transaction was not in balance. Total debits {debits} do not equal "
                f"total credits {credits}.",
                "USER_ERROR",
                path="line",
            )
        )
    return errors


JOURNAL_LINE = fields(
    FieldSpec("line", "number", computed=True),
    FieldSpec("account", "ref", label="Account", ref="account"),
    FieldSpec("debit", "decimal", label="Debit"),
    FieldSpec("credit", "decimal", label="Credit"),
    FieldSpec("memo", label="Memo"),
    FieldSpec("entity", "ref", label="Name"),
    FieldSpec("department", "ref", label="Department"),
    FieldSpec("class", "ref", label="Class"),
    FieldSpec("location", "ref", label="Location"),
)

JOURNAL_ENTRY = register(
    RecordType(
        "journalEntry",
        fields(
            *TRAN_COMMON,
            FieldSpec("line", "sublist", label="Lines", lines=JOURNAL_LINE),
            APPROVAL_FIELD,
        ),
        ref_name="tranId",
        id_sequence="transaction",
        custom_prefix="custbody",
        defaults=(default_posting, default_approval, _journal_lines),
        rules=(open_period, known_approval, _balanced),
        guards=(locked_while_pending,),
        extra={"tran_prefix": "JE"},
    )
)
