"""Reconciliation across CRM, PSA and ERP, read through the connectors over real HTTP.

After a clean close of the invoiced milestone's period every figure agrees:

    | contract value (CRM) | booked (PSA) | billed (ERP) | recognised | deferred | unbilled |
    |----------------------|--------------|--------------|------------|----------|----------|
    | 120,000.00           | 120,000.00   | 40,000.00    | 40,000.00  | 0.00     | 0.00     |

Then someone edits the invoice in NetSuite (40,000 -> 39,000): the reconciliation shows one
break, ``amount_mismatch``, pointing at the hub's invoice and the NetSuite invoice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pshub.close.reconcile import reconcile_period
from pshub.connectors.netsuite.schemas import InvoiceDraft
from pshub.domain.money import money
from pshub.store import repos
from pshub.store.invoicing_tables import InvoiceRow
from tests.integration.close.conftest import ENTITY, close
from tests.integration.invoicing.conftest import Deal


def _contract(report: dict[str, Any], deal: Deal) -> dict[str, Any]:
    with deal.stack.container.db.session() as s:
        row = s.query(InvoiceRow).filter(InvoiceRow.project_id == deal.project_id).one()
    return next(c for c in report["contracts"] if c["contract_id"] == row.contract_id)


def test_a_clean_close_reconciles_with_zero_unexplained_differences_and_no_breaks(
    invoiced: tuple[Deal, str],
) -> None:
    deal, period = invoiced
    close(period)

    report = reconcile_period(deal.stack.container, period, ENTITY)

    assert report["summary"]["unexplained"] == 0
    assert report["summary"]["break"] == 0
    line = _contract(report, deal)
    assert line["billed_erp"] == line["billed_hub"] == line["recognised"] == "40000.00"
    assert Decimal(line["booked"]) == Decimal(line["contract_value"])
    assert (line["deferred"], line["unbilled"]) == ("0.00", "0.00")


def test_an_invoice_changed_in_the_erp_is_classified_as_an_amount_mismatch_break(
    invoiced: tuple[Deal, str],
) -> None:
    deal, period = invoiced
    close(period)
    c = deal.stack.container
    with c.db.session() as s:
        row = s.query(InvoiceRow).filter(InvoiceRow.project_id == deal.project_id).one()
        job = repos.system_ids(s, "project", deal.project_id)["netsuite"]
    erp = c.erp
    view = erp.get_invoice(row.erp_id)  # type: ignore[attr-defined]
    edited = view.lines[0].model_copy(
        update={"rate": money("39000", "GBP"), "amount": money("39000", "GBP")}
    )
    erp.create_invoice(  # type: ignore[attr-defined]
        InvoiceDraft(
            canonical_id=row.invoice_id,
            customer_job_id=job,
            currency="GBP",
            tran_date=row.invoice_date,
            lines=(edited,),
        )
    )

    report = reconcile_period(c, period, ENTITY)

    assert report["summary"]["unexplained"] == 0
    assert report["summary"]["by_category"] == {"amount_mismatch": 1}
    [diff] = _contract(report, deal)["differences"]
    assert diff["kind"] == "break"
    assert Decimal(diff["amount"]) == Decimal("-1000")
    assert diff["sources"] == [f"pshub:invoice:{row.invoice_id}", f"netsuite:invoice:{row.erp_id}"]


def test_approved_psa_time_the_hub_never_received_is_a_missing_posting_break(
    invoiced: tuple[Deal, str],
) -> None:
    """PSA actuals vs the hub's ledger: time approved in Kantata that the change feed has not
    delivered (the hub has not polled since) is a ``missing_posting`` break pointing at the
    Kantata entry; once polled and billed, it agrees."""
    from datetime import UTC, date, datetime

    from pshub.flows import psa_feed, time_to_bill
    from pshub.flows.durable import result_of

    deal, period = invoiced
    c = deal.stack.container
    psa: Any = c.psa
    day = date.fromisoformat(f"{period}-10")
    entry = psa.create_time_entry(
        deal.workspace, day, 90, key="reconcile-missing", user_id="2003", billable=False
    )  # fixed fee: time is cost only
    psa.approve([entry])

    report = reconcile_period(c, period, ENTITY)

    missing = [
        d for d in _contract(report, deal)["differences"] if d["category"] == "missing_posting"
    ]
    assert [d["sources"] for d in missing] == [
        [f"kantata:time_entry:{entry}", f"pshub:work_item:time:{entry}"]
    ]
    assert missing[0]["kind"] == "break"

    psa_feed.poll(c)
    now = datetime.now(UTC)
    result_of(time_to_bill.start(time_to_bill.BillingRunInput(run_id="rec-bill", as_of=now)))
    again = reconcile_period(c, period, ENTITY)
    left = [
        d
        for d in _contract(again, deal)["differences"]
        if d["sources"][0] == f"kantata:time_entry:{entry}"
    ]
    assert not left, [d["message"] for d in left]
