"""Lists the transactions point at, and the rules every posting transaction shares.

Record types: ``employee`` (writable entity), and seeded read-only lists ``accountingPeriod``
(monthly periods with ``periodName``, ``startDate``, ``endDate``, ``closed``, ``isQuarter``,
``isYear``, ``isAdjust``, ``allLocked``), ``account`` (``acctNumber``, ``acctName``,
``acctType``), ``serviceSaleItem`` (``itemId``, ``displayName``) and ``expenseCategory``
(``name``, ``expenseAcct``). Field ids follow the NetSuite Records Catalog.

Shared rules:
- ``postingPeriod`` defaults to the monthly period holding ``tranDate``; posting into a closed
  period is refused with USER_ERROR "The transaction date is not within an open accounting
  period." (NetSuite's UI wording for a date in a closed period).
- ``approvalStatus`` is NetSuite's approval list (1 Pending Approval, 2 Approved, 3 Rejected).
  While a transaction is pending approval, any change but ``approvalStatus`` itself is
  refused with USER_ERROR (the sandbox's wording; NetSuite locks such records in the UI).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pshub.sandboxes.netsuite.errors import ErrorDetail
from pshub.sandboxes.netsuite.records import (
    IGNORED_KEYS,
    FieldSpec,
    Lookup,
    RecordType,
    RuleContext,
    fields,
    register,
    to_decimal,
)

FIRST_PERIOD_YEAR = 2020
LAST_PERIOD_YEAR = 2030
APPROVAL = {"1": "Pending Approval", "2": "Approved", "3": "Rejected"}
PENDING, APPROVED = "1", "2"
CENT = Decimal("0.01")

ACCOUNTS = [
    ("1", "1000", "Operating Cash", "Bank"),
    ("2", "1100", "Accounts Receivable", "AcctRec"),
    ("3", "1200", "Unbilled Receivable", "OthCurrAsset"),
    ("4", "2400", "Deferred Revenue", "DeferRevenue"),
    ("5", "4000", "Services Revenue", "Income"),
    ("6", "4100", "Reimbursable Expense Revenue", "Income"),
    ("7", "5000", "Cost of Services", "COGS"),
    ("8", "6000", "Travel Expense", "Expense"),
]
ITEMS = [("1", "Professional Services"), ("2", "Reimbursable Expenses"), ("3", "Milestone Fee")]
CATEGORIES = [("1", "Travel", "8"), ("2", "Meals", "8"), ("3", "Lodging", "8")]


def amount(value: Any) -> Decimal:
    """A stored amount (Decimal or its text) as Decimal; missing is zero."""
    return to_decimal(value) or Decimal(0)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ref_id(record: Mapping[str, Any], name: str) -> str | None:
    ref = record.get(name)
    return str(ref["id"]) if isinstance(ref, dict) and ref.get("id") is not None else None


def entity(store: Lookup, rid: str | None) -> dict[str, Any] | None:
    """A customer or a job (project): both are entities sharing one id space."""
    if rid is None:
        return None
    return store.get("customer", rid) or store.get("job", rid)


def period_id(day: str) -> str | None:
    """The internal id of the monthly period holding the ISO date ``day``."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return None
    if not FIRST_PERIOD_YEAR <= parsed.year <= LAST_PERIOD_YEAR:
        return None
    return str((parsed.year - FIRST_PERIOD_YEAR) * 12 + parsed.month)


def period_records() -> list[dict[str, Any]]:
    out = []
    for year in range(FIRST_PERIOD_YEAR, LAST_PERIOD_YEAR + 1):
        for month in range(1, 13):
            last = calendar.monthrange(year, month)[1]
            out.append(
                {
                    "id": str((year - FIRST_PERIOD_YEAR) * 12 + month),
                    "periodName": f"{calendar.month_abbr[month]} {year}",
                    "startDate": date(year, month, 1).isoformat(),
                    "endDate": date(year, month, last).isoformat(),
                    "closed": False,
                    "allLocked": False,
                    "isAdjust": False,
                    "isQuarter": False,
                    "isYear": False,
                    "isInactive": False,
                }
            )
    return out


def list_seeds() -> dict[str, list[dict[str, Any]]]:
    """Seed records of the read-only lists, by record type."""
    return {
        "accountingPeriod": period_records(),
        "account": [
            {"id": i, "acctNumber": n, "acctName": name, "acctType": kind, "isInactive": False}
            for i, n, name, kind in ACCOUNTS
        ],
        "serviceSaleItem": [
            {"id": i, "itemId": name, "displayName": name, "isInactive": False} for i, name in ITEMS
        ],
        "expenseCategory": [
            {"id": i, "name": name, "expenseAcct": {"id": acct}, "isInactive": False}
            for i, name, acct in CATEGORIES
        ],
    }


# -- shared defaulters, rules and guards ---------------------------------------------------
def default_posting(record: dict[str, Any], store: Lookup) -> None:
    """``postingPeriod`` from ``tranDate`` when the client did not name one."""
    if record.get("postingPeriod") is None and record.get("tranDate"):
        pid = period_id(record["tranDate"])
        if pid is not None:
            record["postingPeriod"] = {"id": pid}


def open_period(ctx: RuleContext) -> list[ErrorDetail]:
    pid = ref_id(ctx.record, "postingPeriod")
    if pid is None:
        return [ErrorDetail("Please enter value(s) for: Posting Period", "USER_ERROR", "tranDate")]
    period = ctx.store.get("accountingPeriod", pid) or {}
    if period.get("closed") or period.get("allLocked") or period.get("isYear"):
        return [
            ErrorDetail(
                "The transaction date is not within an open accounting period. "
                f"Accounting period {period.get('periodName', pid)} is closed.",
                "USER_ERROR",
                path="postingPeriod",
            )
        ]
    return []


def default_approval(record: dict[str, Any], _store: Lookup) -> None:
    status = ref_id(record, "approvalStatus") or APPROVED
    record["approvalStatus"] = {"id": status, "refName": APPROVAL.get(status, status)}


def known_approval(ctx: RuleContext) -> list[ErrorDetail]:
    status = ref_id(ctx.record, "approvalStatus")
    if status in APPROVAL:
        return []
    return [ErrorDetail(f"Invalid approval status {status}.", "INVALID_CONTENT", "approvalStatus")]


def comparable(value: Any) -> Any:
    """A stored or would-be value in one form, so ``150``, ``150.00`` and ``"150.00"`` match."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    number = None if isinstance(value, bool) else to_decimal(value)
    return number.normalize() if number is not None else value


def locked_edit(
    stored: dict[str, Any], merged: dict[str, Any], decision: str, what: str
) -> list[ErrorDetail]:
    """Refuse a change to a record awaiting approval, naming the first field it touches;
    only ``decision`` (the approval field) may change, besides read-only keys."""
    allowed = {decision, "status", "externalId", *IGNORED_KEYS}
    changed = [
        k
        for k in sorted(set(stored) | set(merged))
        if k not in allowed and comparable(stored.get(k)) != comparable(merged.get(k))
    ]
    if not changed:
        return []
    return [
        ErrorDetail(
            f"This {what} is pending approval and cannot be edited. "
            "Approve or reject it before changing it.",
            "USER_ERROR",
            path=changed[0],
        )
    ]


def locked_while_pending(stored: dict[str, Any], merged: dict[str, Any]) -> list[ErrorDetail]:
    """Refuse every change but the approval decision while the record awaits approval."""
    if ref_id(stored, "approvalStatus") != PENDING:
        return []
    return locked_edit(stored, merged, "approvalStatus", "transaction")


def entity_exists(name: str, label: str) -> Any:
    """A rule: the ``name`` reference points at a customer or a job."""

    def rule(ctx: RuleContext) -> list[ErrorDetail]:
        rid = ref_id(ctx.record, name)
        if rid is None or entity(ctx.store, rid) is not None:
            return []
        return [
            ErrorDetail(
                f"Error while accessing a resource. You have entered an Invalid Field "
                f"Value {rid} for the following field: {name}",
                "INVALID_CONTENT",
                path=name,
            )
        ]

    rule.__doc__ = f"{label} must be a customer or a project."
    return rule


def name_entity(name: str) -> Any:
    """A defaulter: give an entity reference its ``refName`` (customer or job name)."""

    def fill(record: dict[str, Any], store: Lookup) -> None:
        found = entity(store, ref_id(record, name))
        if found is not None:
            record[name] = {"id": found["id"], "refName": found.get("companyName", found["id"])}

    return fill


TRAN_COMMON = (
    FieldSpec("externalId", label="External ID", max_length=255),
    FieldSpec("tranDate", "date", label="Date"),
    FieldSpec("postingPeriod", "ref", label="Posting Period", ref="accountingPeriod"),
    FieldSpec("subsidiary", "ref", label="Subsidiary", ref="subsidiary"),
    FieldSpec("currency", "ref", label="Currency", ref="currency"),
    FieldSpec("memo", label="Memo"),
    FieldSpec("tranId", label="Number", computed=True),
)
APPROVAL_FIELD = FieldSpec("approvalStatus", "ref", label="Approval Status")
_LIST = {"read_only": True}

register(
    RecordType(
        "employee",
        fields(
            FieldSpec("firstName", label="First Name", required=True),
            FieldSpec("lastName", label="Last Name", required=True),
            FieldSpec("subsidiary", "ref", label="Subsidiary", required=True, ref="subsidiary"),
            FieldSpec("entityId", label="ID", max_length=83),
            FieldSpec("externalId", label="External ID", max_length=255),
            FieldSpec("email", "email", label="Email"),
            FieldSpec("isInactive", "bool", label="Inactive"),
        ),
        ref_name="entityId",
        id_sequence="entity",
        custom_prefix="custentity_",
        defaults=(
            lambda r, _s: r.setdefault("entityId", f"{r.get('firstName')} {r.get('lastName')}"),
        ),
    )
)
for _name, _ref_name, _specs in (
    (
        "accountingPeriod",
        "periodName",
        (
            FieldSpec("periodName"),
            FieldSpec("startDate", "date"),
            FieldSpec("endDate", "date"),
            FieldSpec("closed", "bool"),
            FieldSpec("allLocked", "bool"),
            FieldSpec("isAdjust", "bool"),
            FieldSpec("isQuarter", "bool"),
            FieldSpec("isYear", "bool"),
            FieldSpec("isInactive", "bool"),
        ),
    ),
    (
        "account",
        "acctName",
        (
            FieldSpec("acctNumber"),
            FieldSpec("acctName"),
            FieldSpec("acctType"),
            FieldSpec("isInactive", "bool"),
        ),
    ),
    (
        "serviceSaleItem",
        "itemId",
        (FieldSpec("itemId"), FieldSpec("displayName"), FieldSpec("isInactive", "bool")),
    ),
    (
        "expenseCategory",
        "name",
        (
            FieldSpec("name"),
            FieldSpec("expenseAcct", "ref", ref="account"),
            FieldSpec("isInactive", "bool"),
        ),
    ),
):
    register(RecordType(_name, fields(*_specs), ref_name=_ref_name, **_LIST))  # type: ignore[arg-type]
