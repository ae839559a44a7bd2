"""Receivables: ``invoice``, ``creditMemo`` and ``customerPayment``.

Followed: NetSuite Records Catalog field ids. Invoice: ``entity`` (customer or project),
``subsidiary``, ``currency``, ``tranDate``, ``postingPeriod``, ``tranId`` (assigned by the
sandbox: ``INV<internal id>``), ``approvalStatus``, the ``item`` sublist (``item``,
``quantity``, ``rate``, ``amount``, ``taxCode``, ``description``), and the computed ``subtotal``,
``total``, ``amountPaid``, ``amountRemaining`` and ``status`` ("Pending Approval", "Open",
"Paid In Full", "Rejected"). Tax is not computed (``taxTotal`` is zero). Credit memo:
``createdFrom`` (the invoice; entity, subsidiary and currency are taken from it), ``item``
lines, the ``apply`` sublist (``doc``, ``apply``, ``amount``) and computed ``applied`` /
``unapplied`` / ``status`` ("Open", "Fully Applied"); created from an invoice without an
``apply`` sublist it applies itself to that invoice, as NetSuite does. Customer payment:
``customer``, ``payment``, the ``apply`` sublist, computed ``applied`` / ``unapplied``.

Applications are kept on each invoice (``_applied``: source -> amount), so replaying a payment
replaces its own application instead of adding a second one, and an invoice's
``amountRemaining`` never needs a scan of all payments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pshub.sandboxes.netsuite.errors import ErrorDetail
from pshub.sandboxes.netsuite.ledger import (
    APPROVAL_FIELD,
    PENDING,
    TRAN_COMMON,
    amount,
    cents,
    default_approval,
    default_posting,
    entity,
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
    Writer,
    fields,
    register,
)

ZERO = Decimal(0)
STATUS = {
    "pendingApproval": "Pending Approval",
    "open": "Open",
    "paidInFull": "Paid In Full",
    "rejected": "Rejected",
    "fullyApplied": "Fully Applied",
}

ITEM_LINE = fields(
    FieldSpec("line", "number", computed=True),
    FieldSpec("item", "ref", label="Item", ref="serviceSaleItem"),
    FieldSpec("quantity", "decimal", label="Quantity"),
    FieldSpec("rate", "decimal", label="Rate"),
    FieldSpec("amount", "decimal", label="Amount"),
    FieldSpec("taxCode", "ref", label="Tax Code"),
    FieldSpec("description", label="Description"),
)
APPLY_LINE = fields(
    FieldSpec("doc", "ref", label="Invoice", ref="invoice"),
    FieldSpec("apply", "bool", label="Apply"),
    FieldSpec("amount", "decimal", label="Payment"),
    FieldSpec("refNum", label="Ref No.", computed=True),
    FieldSpec("due", "decimal", label="Amt. Due", computed=True),
)


def _status(key: str) -> dict[str, str]:
    return {"id": key, "refName": STATUS[key]}


def _lines(record: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return list((record.get(name) or {}).get("items", []))


# -- invoices ------------------------------------------------------------------------------
def refresh_invoice(invoice: dict[str, Any]) -> None:
    """Recompute what is paid and what remains, and the status that follows."""
    total = amount(invoice.get("total"))
    paid = sum((amount(v) for v in (invoice.get("_applied") or {}).values()), ZERO)
    invoice["amountPaid"] = paid
    invoice["amountRemaining"] = total - paid
    approval = ref_id(invoice, "approvalStatus")
    if approval == PENDING:
        invoice["status"] = _status("pendingApproval")
    elif approval == "3":
        invoice["status"] = _status("rejected")
    else:
        invoice["status"] = _status("paidInFull" if total - paid <= 0 else "open")


def _item_totals(record: dict[str, Any]) -> Decimal:
    subtotal = ZERO
    for n, line in enumerate(_lines(record, "item"), start=1):
        line["line"] = n
        if line.get("amount") is None and line.get("rate") is not None:
            line["amount"] = cents(amount(line.get("quantity", 1)) * amount(line["rate"]))
        subtotal += amount(line.get("amount"))
    record["subtotal"], record["taxTotal"], record["total"] = subtotal, ZERO, subtotal
    return subtotal


def _from_entity(name: str) -> Any:
    def fill(record: dict[str, Any], store: Lookup) -> None:
        party = entity(store, ref_id(record, name)) or {}
        for field in ("subsidiary", "currency"):
            if record.get(field) is None and party.get(field) is not None:
                record[field] = party[field]

    return fill


def _invoice_defaults(record: dict[str, Any], _store: Lookup) -> None:
    _item_totals(record)
    refresh_invoice(record)


def _needs_lines(ctx: RuleContext) -> list[ErrorDetail]:
    lines = _lines(ctx.record, "item")
    if not lines and ctx.rtype.name == "invoice":
        return [ErrorDetail("You must enter at least one line item.", "USER_ERROR", "item")]
    return [
        ErrorDetail("Please enter value(s) for: Item", "USER_ERROR", f"item.items[{n}].item")
        for n, line in enumerate(lines)
        if line.get("item") is None
    ]


ITEM_SUBLIST = FieldSpec("item", "sublist", label="Items", lines=ITEM_LINE)
_TOTALS = tuple(
    FieldSpec(name, "decimal", computed=True)
    for name in ("subtotal", "taxTotal", "total", "amountPaid", "amountRemaining")
)

INVOICE = register(
    RecordType(
        "invoice",
        fields(
            FieldSpec("entity", "ref", label="Customer", required=True),
            *TRAN_COMMON,
            ITEM_SUBLIST,
            FieldSpec("dueDate", "date", label="Due Date"),
            FieldSpec("otherRefNum", label="PO/Check Number"),
            FieldSpec("status", label="Status", computed=True),
            *_TOTALS,
            APPROVAL_FIELD,
        ),
        ref_name="tranId",
        id_sequence="transaction",
        custom_prefix="custbody",
        defaults=(
            name_entity("entity"),
            _from_entity("entity"),
            default_posting,
            default_approval,
            _invoice_defaults,
        ),
        rules=(entity_exists("entity", "Customer"), open_period, known_approval, _needs_lines),
        guards=(locked_while_pending,),
        extra={"tran_prefix": "INV"},
    )
)


# -- applications (payments and credit memos) -----------------------------------------------
def _source(ctx_type: str, rid: str | None) -> str:
    return f"{ctx_type}:{rid or 'new'}"


def _default_applications(kind: str, available: str) -> Any:
    """Fill each applied line's amount with what the invoice still owes, within the funds."""

    def fill(record: dict[str, Any], store: Lookup) -> None:
        left = amount(record.get(available))
        applied = ZERO
        for line in _lines(record, "apply"):
            invoice = store.get("invoice", ref_id(line, "doc") or "") or {}
            own = amount((invoice.get("_applied") or {}).get(_source(kind, record.get("id"))))
            due = amount(invoice.get("amountRemaining")) + own
            line["due"], line["refNum"] = due, invoice.get("tranId")
            line.setdefault("apply", True)
            if line["apply"] and line.get("amount") is None:
                line["amount"] = max(ZERO, min(due, left - applied))
            applied += amount(line.get("amount")) if line["apply"] else ZERO
        record["applied"], record["unapplied"] = applied, left - applied

    return fill


def _check_applications(kind: str, party_field: str, available: str) -> Any:
    def rule(ctx: RuleContext) -> list[ErrorDetail]:
        errors = []
        party = ref_id(ctx.record, party_field)
        for n, line in enumerate(_lines(ctx.record, "apply")):
            where = f"apply.items[{n}].amount"
            invoice = ctx.store.get("invoice", ref_id(line, "doc") or "") or {}
            owner = entity(ctx.store, ref_id(invoice, "entity")) or {}
            if party not in (owner.get("id"), ref_id(owner, "parent")):
                errors.append(
                    ErrorDetail(
                        f"Invoice {invoice.get('tranId')} does not belong to this customer.",
                        "USER_ERROR",
                        path=f"apply.items[{n}].doc",
                    )
                )
            elif line.get("apply") and amount(line.get("amount")) > amount(line.get("due")):
                errors.append(
                    ErrorDetail(
                        f"You cannot apply {line['amount']} to invoice {invoice.get('tranId')}: "
                        f"only {line.get('due')} is due.",
                        "USER_ERROR",
                        path=where,
                    )
                )
        if amount(ctx.record.get("unapplied")) < 0:
            errors.append(
                ErrorDetail(
                    f"The total applied ({ctx.record.get('applied')}) exceeds the "
                    f"{available} amount ({ctx.record.get(available)}).",
                    "USER_ERROR",
                    path="apply",
                )
            )
        return errors

    rule.__doc__ = f"{kind}: applications stay within what is due and what is available."
    return rule


def _apply_to_invoices(kind: str) -> Any:
    """After a payment or credit memo is saved, move its applications onto the invoices."""

    def effect(saved: dict[str, Any], before: dict[str, Any] | None, store: Writer) -> None:
        key = _source(kind, saved["id"])
        wanted = {
            ref_id(line, "doc"): amount(line.get("amount"))
            for line in _lines(saved, "apply")
            if line.get("apply") and amount(line.get("amount")) > 0
        }
        touched = set(wanted) | {ref_id(line, "doc") for line in _lines(before or {}, "apply")}
        for doc in sorted(d for d in touched if d):
            invoice = store.get("invoice", doc)
            if invoice is None:
                continue
            applied = dict(invoice.get("_applied") or {})
            applied.pop(key, None)
            if doc in wanted:
                applied[key] = wanted[doc]
            invoice["_applied"] = applied
            refresh_invoice(invoice)
            store.replace("invoice", invoice)

    return effect


APPLY_SUBLIST = FieldSpec("apply", "sublist", label="Apply", lines=APPLY_LINE)
_APPLIED = (
    FieldSpec("applied", "decimal", label="Applied", computed=True),
    FieldSpec("unapplied", "decimal", label="Unapplied", computed=True),
)

CUSTOMER_PAYMENT = register(
    RecordType(
        "customerPayment",
        fields(
            FieldSpec("customer", "ref", label="Customer", required=True),
            *TRAN_COMMON,
            FieldSpec("payment", "decimal", label="Payment Amount", required=True),
            FieldSpec("paymentMethod", "ref", label="Payment Method"),
            APPLY_SUBLIST,
            *_APPLIED,
        ),
        ref_name="tranId",
        id_sequence="transaction",
        custom_prefix="custbody",
        defaults=(
            name_entity("customer"),
            _from_entity("customer"),
            default_posting,
            _default_applications("customerPayment", "payment"),
        ),
        rules=(
            entity_exists("customer", "Customer"),
            open_period,
            _check_applications("customerPayment", "customer", "payment"),
        ),
        after_save=(_apply_to_invoices("customerPayment"),),
        extra={"tran_prefix": "PYMT"},
    )
)


def _credit_defaults(record: dict[str, Any], store: Lookup) -> None:
    invoice = store.get("invoice", ref_id(record, "createdFrom") or "") or {}
    for name in ("entity", "subsidiary", "currency"):
        if record.get(name) is None and invoice.get(name) is not None:
            record[name] = invoice[name]
    total = _item_totals(record)
    if invoice and "apply" not in record:
        record["apply"] = {"items": [{"doc": {"id": invoice["id"]}, "apply": True}]}
    record["total"] = total


def _credit_status(record: dict[str, Any], _store: Lookup) -> None:
    done = amount(record.get("unapplied")) <= 0
    record["status"] = _status("fullyApplied" if done else "open")


CREDIT_MEMO = register(
    RecordType(
        "creditMemo",
        fields(
            FieldSpec("entity", "ref", label="Customer", required=True),
            FieldSpec("createdFrom", "ref", label="Created From", ref="invoice"),
            *TRAN_COMMON,
            ITEM_SUBLIST,
            APPLY_SUBLIST,
            FieldSpec("status", label="Status", computed=True),
            FieldSpec("subtotal", "decimal", computed=True),
            FieldSpec("taxTotal", "decimal", computed=True),
            FieldSpec("total", "decimal", label="Total", computed=True),
            *_APPLIED,
        ),
        ref_name="tranId",
        id_sequence="transaction",
        custom_prefix="custbody",
        defaults=(
            _credit_defaults,
            name_entity("entity"),
            default_posting,
            _default_applications("creditMemo", "total"),
            _credit_status,
        ),
        rules=(
            entity_exists("entity", "Customer"),
            open_period,
            _needs_lines,
            _check_applications("creditMemo", "entity", "total"),
        ),
        after_save=(_apply_to_invoices("creditMemo"),),
        extra={"tran_prefix": "CM"},
    )
)
