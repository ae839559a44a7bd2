"""A NetSuite credit memo read back: the invoice it came from, then those it applies to."""

from __future__ import annotations

from decimal import Decimal

from pshub.connectors.netsuite.ledger_mapping import credit_memo_view
from pshub.connectors.netsuite.models import NsTransaction
from pshub.domain.money import Money


def test_a_credit_memo_names_its_invoices_and_keeps_its_line_descriptions() -> None:
    record = NsTransaction.model_validate(
        {
            "id": "812",
            "tranId": "CM812",
            "externalId": "PSHUB-crn_0123456789abcdef0123",
            "tranDate": "2026-11-20",
            "lastModifiedDate": "2026-11-20T10:00:00Z",
            "createdFrom": {"id": "700"},
            "total": Decimal("350.00"),
            "item": {
                "items": [
                    {
                        "item": {"id": "1"},
                        "amount": Decimal("350.00"),
                        "description": "[time:42] 2 h",
                    }
                ]
            },
            "apply": {
                "items": [
                    {"doc": {"id": "700"}, "apply": True},
                    {"doc": {"id": "701"}, "apply": True},
                    {"doc": {"id": "702"}, "apply": False},
                ]
            },
        }
    )
    view = credit_memo_view(record, "GBP")
    assert view.invoice_internal_ids == ("700", "701")
    assert view.canonical_id == "crn_0123456789abcdef0123"
    assert view.total == Money.of("350.00", "GBP")
    assert [(x.description, x.amount) for x in view.lines] == [
        ("[time:42] 2 h", Money.of("350.00", "GBP"))
    ]
