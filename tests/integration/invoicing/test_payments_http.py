"""Payments flow back over real HTTP: a customer payment applied in NetSuite moves the
invoice to "Partially Paid" and then "Paid" in the hub, on the Kantata billing milestone and
on the Salesforce opportunity; the receivables feed and the deal's lineage follow."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pshub.connectors.netsuite.schemas import PaymentApplication, PaymentDraft
from pshub.console.lineage import lineage
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money
from pshub.flows import payments
from pshub.store import invoicing as store
from tests.integration.invoicing.conftest import Deal, wait_until


def pay(deal: Deal, invoice_erp_id: str, amount: str, name: str) -> None:
    money = Money.of(amount, "GBP")
    deal.stack.container.erp.apply_payment(  # type: ignore[attr-defined]
        PaymentDraft(
            canonical_id=canonical_id("payment", "bank", name),
            customer_id=deal.customer,
            amount=money,
            tran_date=datetime.now(UTC).date(),
            applications=(PaymentApplication(invoice_internal_id=invoice_erp_id, amount=money),),
        )
    )


def status_everywhere(deal: Deal) -> tuple[str, str, str]:
    with deal.stack.container.db.session() as s:
        open_ones = store.open_receivables(s, datetime.now(UTC).date())
    (ref,) = deal.invoice_refs()
    crm = deal.opportunity_fields("Billing_Status__c")
    hub = open_ones[0].status.value if open_ones else "Paid"
    return hub, ref["external_status"], crm["Billing_Status__c"]


def settle_payments(deal: Deal, wanted: str) -> tuple[str, str, str]:
    started = payments.poll(deal.stack.container).workflows
    assert started
    wait_until(lambda: status_everywhere(deal) == (wanted,) * 3, f"status {wanted}")
    return status_everywhere(deal)


def test_a_partial_then_full_payment_reaches_psa_and_crm_and_the_lineage_shows_every_hop(
    deal: Deal,
) -> None:
    design, _ = deal.milestones
    deal.complete(design)
    deal.poll()
    deal.settle(design, "invoiced")
    (invoice,) = deal.records("netsuite", "invoice")

    pay(deal, invoice["id"], "15000", "P1")
    assert settle_payments(deal, "Partially Paid")
    with deal.stack.container.db.session() as s:
        (receivable,) = store.open_receivables(s, datetime.now(UTC).date())
    assert receivable.remaining == Money.of("25000", "GBP")
    assert receivable.invoice_number == invoice["tranId"]
    assert payments.poll(deal.stack.container).workflows == []  # nothing new: a no-op

    pay(deal, invoice["id"], "25000", "P2")
    settle_payments(deal, "Paid")
    crm = deal.opportunity_fields("Paid_Amount__c", "Last_Invoice_Status__c")
    assert Decimal(str(crm["Paid_Amount__c"])) == Decimal(40000)
    assert crm["Last_Invoice_Status__c"] == "Paid"
    with deal.stack.container.db.session() as s:
        assert store.open_receivables(s, datetime.now(UTC).date()) == []
        stages = [name for name, _ in lineage(s, f"deal:salesforce:{deal.opportunity}").stages()]
    chain = ["opportunity", "project", "milestone", "invoice", "payment"]
    assert [name for name in stages if name in chain] == chain
