"""Sales orders: ``salesOrder``, the contract's billing lines in the ERP.

Followed: NetSuite Records Catalog field ids for ``salesOrder`` (``entity``, ``job``,
``tranDate``, ``startDate``, ``endDate``, ``subsidiary``, ``currency``, ``memo``,
``otherRefNum``, ``billingSchedule``, the ``item`` sublist with ``item``, ``quantity``,
``rate``, ``amount``, ``description`` and ``billingSchedule`` per line; computed ``subtotal``,
``total``, ``tranId`` "SO<id>"), and the approval use case of the REST web services guide
("Use Case For Approving Your Sales Order"): ``orderStatus`` "A" is Pending Approval and "B"
Pending Fulfillment; a POST with "B" creates a preapproved order, a PATCH with "B" approves one.
The other letters (C Cancelled ... H Closed) are accepted and stored.

Sandbox stance: while ``orderStatus`` is "A", any change but ``orderStatus`` is refused with
USER_ERROR (NetSuite locks an order awaiting approval for the approval routing; the wording is
the sandbox's). ``orderStatus`` is exchanged as its letter; the computed ``status`` carries
``{"id": letter, "refName": name}``. Lines carry the hub's line id in the custom column
``custcol_pshub_line`` and a billing date in ``custcol_pshub_bill_date``.
"""

from __future__ import annotations

from typing import Any

from pshub.sandboxes.netsuite.errors import ErrorDetail
from pshub.sandboxes.netsuite.ledger import (
    TRAN_COMMON,
    amount,
    cents,
    default_posting,
    entity,
    entity_exists,
    locked_edit,
    name_entity,
)
from pshub.sandboxes.netsuite.records import (
    FieldSpec,
    Lookup,
    RecordType,
    RuleContext,
    fields,
    register,
)

ORDER_STATUS = {
    "A": "Pending Approval",
    "B": "Pending Fulfillment",
    "C": "Cancelled",
    "D": "Partially Fulfilled",
    "E": "Pending Billing/Partially Fulfilled",
    "F": "Pending Billing",
    "G": "Billed",
    "H": "Closed",
}
PENDING_APPROVAL = "A"
LINE = fields(
    FieldSpec("line", "number", computed=True),
    FieldSpec("item", "ref", label="Item", ref="serviceSaleItem"),
    FieldSpec("quantity", "decimal", label="Quantity"),
    FieldSpec("rate", "decimal", label="Rate"),
    FieldSpec("amount", "decimal", label="Amount"),
    FieldSpec("description", label="Description"),
    FieldSpec("billingSchedule", "ref", label="Billing Schedule"),
    FieldSpec("custcol_pshub_line", label="PSHub Line"),
    FieldSpec("custcol_pshub_bill_date", "date", label="PSHub Billing Date"),
)


def _lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    return list((record.get("item") or {}).get("items", []))


def _defaults(record: dict[str, Any], store: Lookup) -> None:
    """Status letter (default A, as NetSuite creates orders), totals and party fields."""
    letter = str(record.get("orderStatus") or PENDING_APPROVAL)
    record["orderStatus"] = letter
    record["status"] = {"id": letter, "refName": ORDER_STATUS.get(letter, letter)}
    subtotal = amount(0)
    for n, line in enumerate(_lines(record), start=1):
        line["line"] = n
        if line.get("amount") is None and line.get("rate") is not None:
            line["amount"] = cents(amount(line.get("quantity", 1)) * amount(line["rate"]))
        subtotal += amount(line.get("amount"))
    record["subtotal"], record["total"] = subtotal, subtotal
    party = entity(store, str((record.get("entity") or {}).get("id"))) or {}
    for name in ("subsidiary", "currency"):
        if record.get(name) is None and party.get(name) is not None:
            record[name] = party[name]


def _known_status(ctx: RuleContext) -> list[ErrorDetail]:
    if ctx.record.get("orderStatus") in ORDER_STATUS:
        return []
    value = ctx.record.get("orderStatus")
    return [ErrorDetail(f"Invalid order status {value}.", "INVALID_CONTENT", "orderStatus")]


def _has_lines(ctx: RuleContext) -> list[ErrorDetail]:
    if _lines(ctx.record):
        return []
    return [ErrorDetail("You must enter at least one line item.", "USER_ERROR", "item")]


def locked_while_pending_approval(
    stored: dict[str, Any], merged: dict[str, Any]
) -> list[ErrorDetail]:
    """Refuse every change but ``orderStatus`` while the order awaits approval."""
    if stored.get("orderStatus") != PENDING_APPROVAL:
        return []
    return locked_edit(stored, merged, "orderStatus", "sales order")


SALES_ORDER = register(
    RecordType(
        "salesOrder",
        fields(
            FieldSpec("entity", "ref", label="Customer", required=True),
            FieldSpec("job", "ref", label="Project"),
            *TRAN_COMMON,
            FieldSpec("startDate", "date", label="Start Date"),
            FieldSpec("endDate", "date", label="End Date"),
            FieldSpec("otherRefNum", label="PO #"),
            FieldSpec("billingSchedule", "ref", label="Billing Schedule"),
            FieldSpec("orderStatus", label="Order Status"),
            FieldSpec("item", "sublist", label="Items", lines=LINE),
            FieldSpec("status", label="Status", computed=True),
            FieldSpec("subtotal", "decimal", computed=True),
            FieldSpec("total", "decimal", label="Total", computed=True),
        ),
        ref_name="tranId",
        id_sequence="transaction",
        custom_prefix="custbody",
        defaults=(name_entity("entity"), default_posting, _defaults),
        rules=(entity_exists("entity", "Customer"), _known_status, _has_lines),
        guards=(locked_while_pending_approval,),
        extra={"tran_prefix": "SO"},
    )
)
