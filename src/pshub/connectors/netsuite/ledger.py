"""Time, expenses, billing and journals on NetSuite: the connector methods behind them.

Every write is an upsert by external id (``PUT /{type}/eid:PSHUB-<canonical id>``); time bills
and expenses go in batches through :mod:`.bulk`. Reads of invoices and payments ask for
``expandSubResources=true`` so their sublists come inline.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pshub.connectors.netsuite import ledger_mapping as lm
from pshub.connectors.netsuite.bulk import BulkWriter, Item
from pshub.connectors.netsuite.models import NsPeriod, NsTransaction
from pshub.connectors.netsuite.schemas import (
    AccountingPeriod,
    CreditMemoDraft,
    CreditMemoView,
    ExpenseLine,
    InvoiceDraft,
    InvoiceView,
    JournalDraft,
    PaymentDraft,
    PaymentView,
    PostResult,
    TimeBillLine,
)

APPROVAL_IDS = {True: "2", False: "3"}  # NetSuite approval list: 2 Approved, 3 Rejected


class LedgerMixin:
    """Mixed into :class:`~pshub.connectors.netsuite.client.NetSuiteConnector`."""

    bulk: BulkWriter
    _currency_codes: dict[str, str]
    _send: Callable[..., Any]  # the connector's signed, budgeted request

    # provided by the connector
    def _upsert(self, record_type: str, canonical: str, body: dict[str, Any]) -> str:
        raise NotImplementedError

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def currency_id(self, iso_code: str) -> str:
        raise NotImplementedError

    def find_ids(self, record_type: str, q: str, *, limit: int = 1000) -> list[str]:
        raise NotImplementedError

    # -- bulk ------------------------------------------------------------------------------
    def upsert_time_bills(self, bills: list[TimeBillLine]) -> list[PostResult]:
        """Upsert time bills in batches; one result per bill, refusals per record."""
        items: list[Item] = [(bill.external_id, lm.time_bill_body(bill)) for bill in bills]
        return self.bulk.upsert("timeBill", items)

    def upsert_expenses(self, expenses: list[ExpenseLine]) -> list[PostResult]:
        """Upsert billable expenses (one expense report each) in batches."""
        currency = {code: self.currency_id(code) for code in {e.amount.currency for e in expenses}}
        items: list[Item] = [
            (line.external_id, lm.expense_body(line, currency[line.amount.currency]))
            for line in expenses
        ]
        return self.bulk.upsert("expenseReport", items)

    # -- receivables -----------------------------------------------------------------------
    def create_invoice(self, draft: InvoiceDraft) -> str:
        """Create or update the invoice keyed by the draft's canonical id; its internal id."""
        body = lm.invoice_body(draft, self.currency_id(draft.currency))
        return self._upsert("invoice", draft.canonical_id, body)

    def get_invoice(self, internal_id: str) -> InvoiceView:
        record = self._transaction("invoice", internal_id)
        return lm.invoice_view(record, self.currency_code(record))

    def set_approval(self, record_type: str, internal_id: str, *, approved: bool) -> None:
        """Approve (or reject) a transaction pending approval."""
        self._send(
            "PATCH",
            f"/{record_type}/{internal_id}",
            operation=f"approve {record_type}",
            record=internal_id,
            json={"approvalStatus": {"id": APPROVAL_IDS[approved]}},
        )

    def create_credit_memo(self, draft: CreditMemoDraft) -> str:
        """A credit memo from the invoice, applied to it; its internal id."""
        return self._upsert("creditMemo", draft.canonical_id, lm.credit_memo_body(draft))

    def list_credit_memos(self, since: datetime) -> list[CreditMemoView]:
        """Credit memos created or changed since ``since`` (UTC), with their lines."""
        stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        ids = self.find_ids("creditMemo", f'lastModifiedDate ON_OR_AFTER "{stamp}"')
        return [self.get_credit_memo(internal_id) for internal_id in ids]

    def get_credit_memo(self, internal_id: str) -> CreditMemoView:
        record = self._transaction("creditMemo", internal_id)
        return lm.credit_memo_view(record, self.currency_code(record))

    def apply_payment(self, draft: PaymentDraft) -> str:
        """Record a customer payment applied to invoices; its internal id."""
        return self._upsert("customerPayment", draft.canonical_id, lm.payment_body(draft))

    def list_payments(self, since: datetime) -> list[PaymentView]:
        """Payments created or changed since ``since`` (UTC)."""
        stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        ids = self.find_ids("customerPayment", f'lastModifiedDate ON_OR_AFTER "{stamp}"')
        views = []
        for internal_id in ids:
            record = self._transaction("customerPayment", internal_id)
            views.append(lm.payment_view(record, self.currency_code(record)))
        return views

    # -- general ledger --------------------------------------------------------------------
    def post_journal(self, draft: JournalDraft) -> str:
        """Create or update a journal entry; NetSuite refuses one that does not balance."""
        body = lm.journal_body(draft, self.currency_id(draft.currency))
        return self._upsert("journalEntry", draft.canonical_id, body)

    def accounting_periods(
        self, start: date | None = None, end: date | None = None
    ) -> list[AccountingPeriod]:
        """Monthly accounting periods (with their ``closed`` flag) inside [start, end]."""
        terms = ["isQuarter IS false", "isYear IS false"]
        if start is not None:
            terms.append(f'startDate ON_OR_AFTER "{start.isoformat()}"')
        if end is not None:
            terms.append(f'endDate ON_OR_BEFORE "{end.isoformat()}"')
        ids = self.find_ids("accountingPeriod", " AND ".join(terms))
        records = [NsPeriod.model_validate(self._get_json(f"/accountingPeriod/{i}")) for i in ids]
        return [lm.period(r) for r in records]

    # -- helpers ---------------------------------------------------------------------------
    def _transaction(self, record_type: str, internal_id: str) -> NsTransaction:
        data = self._get_json(
            f"/{record_type}/{internal_id}", params={"expandSubResources": "true"}
        )
        return NsTransaction.model_validate(data)

    def currency_code(self, record: NsTransaction) -> str:
        """The ISO code of a transaction's currency (looked up once per currency)."""
        cid = record.currency.id if record.currency else "1"
        if cid not in self._currency_codes:
            self._currency_codes[cid] = str(self._get_json(f"/currency/{cid}")["symbol"])
        return self._currency_codes[cid]
