"""Credit-note services: the ERP port, the memo the hub issues, and the ledger effect.

Plain functions over the container (the ``credit_note`` workflow calls them from its steps;
the flow-level property test calls them directly with an in-memory ERP at the same port).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, cast

from pshub.bootstrap import Container
from pshub.domain.findings import Finding
from pshub.domain.ids import canonical_id
from pshub.domain.ledger import Action, LedgerRefusal, LineState, credit
from pshub.domain.money import Money
from pshub.domain.tm_invoicing import CreditLine, match_credit
from pshub.flows.invoicing_ports import ErpCreditMemoDraft, ErpInvoiceLine
from pshub.flows.milestone_context import invoicing_rules
from pshub.store import credits as store
from pshub.store import repos, tm_ledger
from pshub.store import tm_invoicing as tm_store
from pshub.store.invoicing_tables import CreditNoteRow, InvoiceRow

FLOW = "credit_notes"


class _MemoLine(Protocol):
    @property
    def description(self) -> str | None: ...
    @property
    def amount(self) -> Money: ...


class _MemoView(Protocol):
    @property
    def internal_id(self) -> str: ...
    @property
    def tran_id(self) -> str: ...
    @property
    def canonical_id(self) -> str | None: ...
    @property
    def invoice_internal_ids(self) -> tuple[str, ...]: ...
    @property
    def total(self) -> Money: ...
    @property
    def last_modified(self) -> str: ...
    @property
    def lines(self) -> Sequence[_MemoLine]: ...


class ErpCreditPort(Protocol):
    system: str

    def create_credit_memo(self, draft: Any) -> str: ...

    def get_credit_memo(self, internal_id: str) -> _MemoView: ...

    def list_credit_memos(self, since: datetime) -> Sequence[_MemoView]: ...


def erp_credit(c: Container) -> ErpCreditPort:
    return cast(ErpCreditPort, c.extras.get("erp_invoicing", c.erp))


def memo_read(view: _MemoView) -> store.MemoRead:
    return store.MemoRead(
        erp_id=view.internal_id,
        number=view.tran_id,
        credit_note_id=view.canonical_id
        or canonical_id("credit_note", "netsuite", view.internal_id),
        invoice_erp_ids=tuple(view.invoice_internal_ids),
        total=view.total,
        modified=view.last_modified,
        lines=tuple((line.description, line.amount) for line in view.lines),
    )


def issue_draft(
    c: Container, invoice_id: str, source_keys: Sequence[str] | None, reason: str, day: date
) -> ErpCreditMemoDraft:
    """The memo crediting ``source_keys`` (None: every line) of a T&M invoice in full."""
    with c.db.session() as s:
        invoice = s.get(InvoiceRow, invoice_id)
        rows = tm_store.lines_of(s, invoice_id, "invoiced")
    if invoice is None or invoice.erp_id is None:
        raise LookupError(f"invoice {invoice_id} is not in the ERP")
    chosen = [r for r in rows if source_keys is None or r.source_key in source_keys]
    if not chosen:
        raise LookupError(f"invoice {invoice_id} has no invoiced line to credit")
    tm = invoicing_rules(c).tm
    rules_items = {"time": tm.time_item_id, "expense": tm.expense_item_id}
    lines = tuple(
        ErpInvoiceLine(
            item_id=rules_items.get(r.source_key.split(":", 1)[0], "1"),
            quantity=Decimal(1),
            rate=Money.of(r.amount, r.currency),
            amount=Money.of(r.amount, r.currency),
            description=r.description,
        )
        for r in chosen
    )
    keys = "|".join(sorted(r.source_key for r in chosen))
    return ErpCreditMemoDraft(
        canonical_id=canonical_id("credit_note", invoice_id, keys),
        invoice_internal_id=invoice.erp_id,
        tran_date=day,
        lines=lines,
        memo=reason[:300],
    )


def apply_credit(c: Container, erp_id: str) -> dict[str, Any]:
    """Return the lines the memo credits in full to re-billable (once per memo and line);
    what it credits otherwise becomes an exception with its amount."""
    with c.db.session() as s:
        row = store.credit_note(s, erp_id)
        if row is None:
            raise LookupError(f"credit memo {erp_id} was not received")
        invoiced = {
            r.source_key: Money.of(r.amount, r.currency)
            for r in tm_store.lines_of(s, row.invoice_id)
            if r.state in ("invoiced", "credited")
        }
        memo = [CreditLine(d, a) for d, a in store.memo_lines(row)]
        match = match_credit(row.credit_note_id, memo, invoiced)
        findings = list(match.findings)
        credited = [k for k in match.credited if not store.was_credited(s, erp_id, k)]
        books = tm_ledger.load(s, credited)
        done: list[str] = []
        for key in credited:
            problem = _credit_line(s, row.invoice_id, erp_id, books.get(key), key)
            if problem is None:
                done.append(key)
            else:
                findings.append(problem)
        tm_store.set_lines_state(s, row.invoice_id, "credited", done)
        row.status = "exception" if findings else "applied"
        if findings:
            _exception(s, row, findings)
        else:
            repos.resolve_open_exceptions(s, FLOW, f"credit:{erp_id}")
        repos.audit(
            s,
            action="credit_note.applied",
            correlation_id=row.correlation_id,
            entity_type="credit_note",
            entity_id=row.credit_note_id,
            system="netsuite",
            system_id=erp_id,
            invoice=row.invoice_id,
            rebillable=done,
            exceptions=[f.code for f in findings],
        )
        return {
            "credit_note_id": row.credit_note_id,
            "invoice_id": row.invoice_id,
            "rebillable": done,
            "findings": [f.code for f in findings],
        }


def _credit_line(
    s: Any, invoice_id: str, erp_id: str, book: tm_ledger.LineBook | None, key: str
) -> Finding | None:
    live = tm_ledger.last_reference(s, key, Action.INVOICE) if book else None
    if book is None or book.line.state is not LineState.INVOICED or live != invoice_id:
        return Finding(
            code="credit.not_live",
            field="creditMemo.item",
            message=f"{key} is not live on invoice {invoice_id} (credited before?)",
            record=key,
        )
    version, amount = book.line.version, book.line.amount
    try:
        outcome = credit(book.line, erp_id)
    except LedgerRefusal as exc:
        return Finding(code="credit.refused", message=str(exc), record=key)
    assert version is not None and amount is not None
    tm_ledger.append(s, book, outcome.entries, outcome.line)
    store.add_credited(s, erp_id, invoice_id, key, version, amount)
    return None


def _exception(s: Any, row: CreditNoteRow, findings: list[Finding]) -> None:
    amounts = [f.amount for f in findings if f.amount is not None]
    total = None
    for a in amounts:
        total = a if total is None else total + a if a.currency == total.currency else total
    repos.raise_exception(
        s,
        flow=FLOW,
        kind="business",
        correlation_id=row.correlation_id,
        source_system="netsuite",
        source_record=f"credit:{row.erp_id}",
        reason_code=findings[0].code,
        reason="; ".join(f.message for f in findings[:5]),
        amount=total,
        legal_entity=None,
        findings=[f.model_dump(mode="json") for f in findings[:500]],
        trigger={"flow": FLOW, "input": {"erp_id": row.erp_id}},
    )
