"""T&M invoicing over real HTTP: posted time becomes NetSuite invoices grouped by policy, once,
respecting holds, through outages; the hub's invoices table (the receivables feed) follows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from pshub.domain.ledger import LineState
from pshub.store import billing as billing_repo
from pshub.store.tables import BusinessException
from tests.integration.invoicing.tm_world import TmDeal, erp_lines, tm_deal, total

__all__ = ["tm_deal"]


def test_posted_time_becomes_one_invoice_per_project_even_when_the_run_is_started_five_times(
    tm_deal: TmDeal,
) -> None:
    keys = tm_deal.log_and_approve(6, prefix="a")
    assert tm_deal.bill("b1")["posted"] == 6
    first = tm_deal.invoice()
    assert (first["invoices"], first["lines"]) == (1, 6)
    assert tm_deal.invoice() == first  # the same run again: DBOS returns the first run
    for n in range(4):  # later runs of the period find nothing posted
        assert tm_deal.invoice(run=f"again{n}")["invoices"] == 0
    (invoice,) = tm_deal.erp_invoices()
    assert len(erp_lines(invoice)) == 6
    assert all(line["description"].startswith("[time:") for line in erp_lines(invoice))
    (row,) = tm_deal.hub_invoices()
    assert row.erp_id == invoice["id"] and row.number == invoice["tranId"]
    assert row.net == total(invoice) and row.status == "Open"
    states = tm_deal.states(keys)
    assert {st for st, _, _ in states.values()} == {LineState.INVOICED}
    assert {(i, c) for _, i, c in states.values()} == {(1, 0)}


def test_per_month_grouping_makes_one_invoice_per_month_of_work(tm_deal: TmDeal) -> None:
    tm_deal.set_policy("grouping", "per_month")
    days = [date(2026, 9, 15), date(2026, 10, 15)]
    tm_deal.log_and_approve(4, prefix="m", days=days)
    tm_deal.bill("b1")
    assert tm_deal.invoice()["invoices"] == 2
    invoices = tm_deal.erp_invoices()
    assert sorted(len(erp_lines(i)) for i in invoices) == [2, 2]
    assert sorted(i["memo"].rsplit(" ", 1)[-1] for i in invoices) == ["2026-09", "2026-10"]


def test_held_lines_are_not_invoiced_and_the_exception_states_their_amount(
    tm_deal: TmDeal,
) -> None:
    keys = tm_deal.log_and_approve(3, prefix="h")
    tm_deal.bill("b1")
    with tm_deal.c.db.session() as s:
        billing_repo.set_hold(s, "entry", keys[0], "customer disputes this day", "finance")
    result = tm_deal.invoice()
    assert (result["invoices"], result["lines"], result["held"]) == (1, 2, 1)
    assert "invoice.billing_hold" in result["exceptions"]
    with tm_deal.c.db.session() as s:
        (exc,) = s.scalars(
            select(BusinessException).where(BusinessException.reason_code == "invoice.billing_hold")
        ).all()
        assert exc.amount is not None and exc.amount > 0
    assert tm_deal.states([keys[0]])[keys[0]][0] is LineState.POSTED
    with tm_deal.c.db.session() as s:
        billing_repo.lift_hold(s, "entry", keys[0], "finance")
    assert tm_deal.invoice(run="2")["lines"] == 1
    assert len(tm_deal.erp_invoices()) == 2


def test_a_held_project_gets_no_invoice(tm_deal: TmDeal) -> None:
    tm_deal.log_and_approve(2, prefix="p")
    tm_deal.bill("b1")
    with tm_deal.c.db.session() as s:
        billing_repo.set_hold(s, "project", tm_deal.workspace, "credit check", "finance")
    assert tm_deal.invoice()["invoices"] == 0
    assert tm_deal.erp_invoices() == []


def test_a_netsuite_outage_during_invoice_creation_is_waited_out(tm_deal: TmDeal) -> None:
    tm_deal.log_and_approve(2, prefix="o")
    tm_deal.bill("b1")
    with tm_deal.stack.sandboxes.admin("netsuite") as admin:
        admin.post("/_sandbox/outage", json={"seconds": 3}).raise_for_status()
    result = tm_deal.invoice()
    assert (result["invoices"], result["failed"]) == (1, 0)
    (invoice,) = tm_deal.erp_invoices()
    assert total(invoice) == tm_deal.hub_invoices()[0].net > Decimal(0)


def test_an_invoice_netsuite_refuses_is_an_exception_with_its_amount_and_is_made_after_the_fix(
    tm_deal: TmDeal,
) -> None:
    tm_deal.log_and_approve(2, prefix="r")
    tm_deal.bill("b1")
    tm_deal.set_policy("time_item_id", "99")  # no such service item in NetSuite
    result = tm_deal.invoice()
    assert (result["invoices"], result["failed"]) == (0, 1)
    with tm_deal.c.db.session() as s:
        (exc,) = s.scalars(
            select(BusinessException).where(BusinessException.reason_code == "vendor.rejected")
        ).all()
        (row,) = tm_deal.hub_invoices()
        assert exc.amount == row.net and exc.status == "open" and exc.reason
    assert tm_deal.erp_invoices() == []
    tm_deal.set_policy("time_item_id", "1")
    assert tm_deal.invoice(run="2")["lines"] == 2
    (invoice,) = tm_deal.erp_invoices()
    assert total(invoice) == row.net
