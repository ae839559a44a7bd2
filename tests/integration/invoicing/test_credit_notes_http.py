"""Credit notes over real HTTP: a credit memo made in NetSuite (found by polling) or issued by
the hub returns the credited lines to re-billable; the next run bills them again, once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from pshub.connectors.netsuite.schemas import CreditMemoDraft, InvoiceLine
from pshub.domain.ids import canonical_id
from pshub.domain.ledger import LineState
from pshub.domain.money import Money
from pshub.flows import credit_notes, tm_invoicing
from pshub.flows.durable import result_of
from pshub.store import credits as credit_store
from pshub.store.tables import BusinessException
from tests.integration.invoicing.conftest import wait_until
from tests.integration.invoicing.tm_world import PERIOD, TmDeal, erp_lines, tm_deal

__all__ = ["tm_deal"]


def user_credits(
    deal: TmDeal, invoice: dict[str, Any], lines: list[dict[str, Any]], name: str
) -> str:
    """A billing clerk credits ``lines`` of the invoice in NetSuite (the memo copies them)."""
    erp: Any = deal.c.erp
    return str(
        erp.create_credit_memo(
            CreditMemoDraft(
                canonical_id=canonical_id("credit_note", "clerk", name),
                invoice_internal_id=invoice["id"],
                tran_date=datetime.now(UTC).date(),
                lines=tuple(
                    InvoiceLine(
                        item_id=line["item"]["id"],
                        quantity=Decimal(str(line["quantity"])),
                        rate=Money.of(str(line["rate"]), "GBP"),
                        amount=Money.of(str(line["amount"]), "GBP"),
                        description=line.get("description"),
                    )
                    for line in lines
                ),
            )
        )
    )


def poll_and_settle(deal: TmDeal) -> list[dict[str, Any]]:
    started = credit_notes.poll(deal.c).workflows
    return [result_of(w) for w in started]


def key_of(line: dict[str, Any]) -> str:
    return str(line["description"]).split("]", 1)[0].lstrip("[")


def test_a_credit_memo_made_in_netsuite_makes_its_lines_re_billable_and_they_are_billed_again_once(
    tm_deal: TmDeal,
) -> None:
    keys = tm_deal.log_and_approve(4, prefix="c")
    tm_deal.bill("b1")
    tm_deal.invoice()
    (invoice,) = tm_deal.erp_invoices()
    credited = erp_lines(invoice)[:2]
    user_credits(tm_deal, invoice, credited, "CM1")
    (result,) = poll_and_settle(tm_deal)
    assert sorted(result["rebillable"]) == sorted(key_of(x) for x in credited)
    back = {key_of(x) for x in credited}
    assert {
        k for k, (st, _, _) in tm_deal.states(keys).items() if st is LineState.REBILLABLE
    } == back

    assert poll_and_settle(tm_deal) == []  # the same memo again: nothing new
    with tm_deal.c.db.session() as s:
        credit_store.set_cursor(s, credit_notes.FEED, "2000-01-01T00:00:00Z")
    assert poll_and_settle(tm_deal) == []  # a full re-read: still nothing new

    again = tm_deal.invoice(run="2")
    assert (again["invoices"], again["lines"]) == (1, 2)
    for n in range(3):
        assert tm_deal.invoice(run=f"3-{n}")["invoices"] == 0
    rebill = [i for i in tm_deal.erp_invoices() if i["id"] != invoice["id"]]
    assert len(rebill) == 1 and {key_of(x) for x in erp_lines(rebill[0])} == back
    states = tm_deal.states(keys)
    assert {k: (i, c) for k, (_, i, c) in states.items() if k in back} == dict.fromkeys(
        back, (2, 1)
    )
    assert all(st is LineState.INVOICED for st, _, _ in states.values())


def test_a_credit_note_issued_by_the_hub_is_applied_once_and_a_second_credit_is_not_re_billed(
    tm_deal: TmDeal,
) -> None:
    keys = tm_deal.log_and_approve(2, prefix="i")
    tm_deal.bill("b1")
    tm_deal.invoice()
    (row,) = tm_deal.hub_invoices()
    workflow = credit_notes.issue_credit_note(row.invoice_id, [keys[0]], reason="wrong rate")
    assert credit_notes.issue_credit_note(row.invoice_id, [keys[0]]) == workflow
    assert result_of(workflow)["rebillable"] == [keys[0]]
    assert poll_and_settle(tm_deal) == []  # the poll finds the hub's own memo: applied already
    assert tm_deal.invoice(run="2")["lines"] == 1

    rebilled = next(r for r in tm_deal.hub_invoices() if r.invoice_id != row.invoice_id)
    assert result_of(credit_notes.issue_credit_note(rebilled.invoice_id))["rebillable"] == [keys[0]]
    third = tm_deal.invoice(run="3")
    assert third["invoices"] == 0 and "invoice.rebill_exhausted" in third["exceptions"]
    assert tm_deal.states([keys[0]])[keys[0]] == (LineState.REBILLABLE, 2, 2)
    assert credit_notes.counts()["credit_notes"] == 2


def test_a_lump_sum_credit_returns_nothing_to_re_billable_and_states_its_amount(
    tm_deal: TmDeal,
) -> None:
    keys = tm_deal.log_and_approve(2, prefix="l")
    tm_deal.bill("b1")
    tm_deal.invoice()
    (invoice,) = tm_deal.erp_invoices()
    goodwill = [
        {
            **erp_lines(invoice)[0],
            "description": "Goodwill",
            "amount": "50.00",
            "rate": "50.00",
            "quantity": 1,
        }
    ]
    user_credits(tm_deal, invoice, goodwill, "CM-goodwill")
    (result,) = poll_and_settle(tm_deal)
    assert result["rebillable"] == [] and result["findings"] == ["credit.unmatched"]
    with tm_deal.c.db.session() as s:
        exc = s.scalars(
            select(BusinessException).where(BusinessException.reason_code == "credit.unmatched")
        ).one()
        assert exc.amount == Decimal("50.00")
    assert {st for st, _, _ in tm_deal.states(keys).values()} == {LineState.INVOICED}
    wait_until(lambda: tm_deal.hub_invoices()[0].remaining is not None, "invoice status")


def test_the_demo_entry_points_invoice_credit_one_line_re_bill_it_and_count_no_double_billing(
    tm_deal: TmDeal,
) -> None:
    tm_deal.log_and_approve(3, prefix="d")
    tm_deal.bill("b1")
    first = tm_invoicing.run_tm_invoicing(PERIOD, c=tm_deal.c)
    assert (first["projects"], first["invoices_created"], first["lines_invoiced"]) == (1, 1, 3)
    workflow = credit_notes.credit_one_for_demo(tm_deal.c)
    assert workflow is not None and len(result_of(workflow)["rebillable"]) == 1
    again = tm_invoicing.run_tm_invoicing(PERIOD, run="after-credit", c=tm_deal.c)
    assert again["lines_invoiced"] == 1
    assert tm_invoicing.summary(tm_deal.c) == {
        "invoices_created": 2,
        "credit_notes": 1,
        "credited_lines": 1,
        "double_billed": 0,
    }
