"""The billing side of the demo's simulated quarter: milestones, invoices, cash, close.

Runs beside :mod:`pshub.simulate_delivery` against the live sandboxes and hub, acting as the
people around the hub — never as the hub itself:

- project managers complete each fixed-fee milestone in Kantata on its due date; customers
  accept the milestones that need acceptance three days later (the hub bills them then);
- finance books the original sales order of two fixed-fee deals in NetSuite (one still pending
  approval) and account managers approve a change order on each in Salesforce; the pending
  order is approved a week later, and the queued change applies then;
- at each month end finance runs T&M invoicing for the month and closes every legal entity;
- customers pay invoices three weeks after their date (one pays half first);
- a credit note is issued once on a T&M invoice (its lines become re-billable and are billed
  again by the next invoicing run);
- at the end the last closed month is reconciled across CRM, PSA and ERP.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from pshub import change_order_demo
from pshub.connectors.netsuite.schemas import PaymentApplication, PaymentDraft
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money
from pshub.flows import credit_notes, milestone_intake, payments, tm_invoicing
from pshub.flows import month_end_close as close_flow
from pshub.flows.durable import result_of
from pshub.stack import Stack
from pshub.store import invoicing as invoices
from pshub.store import repos
from pshub.store.invoicing_tables import InvoiceRow, MilestoneBillingRow
from pshub.store.tables import CanonicalRecord

ACCEPTANCE_DAYS = 3
PAYMENT_DAYS = 21
CHANGE_ORDERS_ON = date(2026, 11, 9)
ORDER_APPROVED_ON = date(2026, 11, 16)
CREDIT_NOTE_ON = date(2026, 12, 10)


@dataclass
class BillingResult:
    milestones_completed: int = 0
    payments_applied: int = 0
    change_orders: list[str] = field(default_factory=list)
    pending_order: str | None = None
    closes: list[dict[str, Any]] = field(default_factory=list)
    tm_runs: list[dict[str, Any]] = field(default_factory=list)
    reconciliation: dict[str, Any] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    _paid: set[str] = field(default_factory=set)
    _completed: set[str] = field(default_factory=set)


def previous_month(month: str) -> str:
    """``2026-11`` -> ``2026-10``."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


class BillingSimulation:
    """Called by the delivery simulation each business evening and at each month end."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.c = stack.container
        self.result = BillingResult()
        # the change-order flow re-reads a pending sales order this often (demo: quickly)
        self.c.extras.setdefault("change_orders.approval_poll_seconds", 1.0)

    # -- each business day (after the nightly billing run) --

    def evening(self, day: date) -> None:
        if day == CHANGE_ORDERS_ON:
            self._change_orders()
        if day == ORDER_APPROVED_ON and self.result.pending_order:
            self._approve_order()
        self._complete_due_milestones(day)
        self._accept(day)
        if day == CREDIT_NOTE_ON:
            self._credit_note()
        if day.weekday() == 0:
            self._pay(day)

    def _change_orders(self) -> None:
        crm: Any = self.c.crm
        rows = crm.query(
            "SELECT Id FROM Opportunity WHERE StageName = 'Closed Won' AND "
            "Provisioning_Status__c = 'Provisioned' AND Billing_Model__c = 'Fixed Fee Milestone'"
            " ORDER BY Id"
        )
        targets = [str(r["Id"]) for r in rows][:2]
        for n, opp in enumerate(targets):
            contract = canonical_id("contract", "salesforce", opp)
            erp_id = change_order_demo.book_order(self.c, contract, approved=n == 0)
            if n == 1:
                self.result.pending_order = erp_id
        self.result.change_orders = change_order_demo.approve_change_orders(self.c, count=2)
        self.result.events.append(
            f"{CHANGE_ORDERS_ON}: change orders approved in Salesforce on "
            f"{len(self.result.change_orders)} deals (one sales order still pending approval)"
        )

    def _approve_order(self) -> None:
        from pshub.flows.change_orders import erp_contracts

        port: Any = erp_contracts()
        port.set_order_status(self.result.pending_order, "B")
        self.result.events.append(
            f"{ORDER_APPROVED_ON}: sales order {self.result.pending_order} approved in NetSuite; "
            "the queued change order applies"
        )

    def _complete_due_milestones(self, day: date) -> None:
        psa: Any = self.c.psa
        with self.c.db.session() as s:
            due = [
                (m["id"], story)
                for body in _records(s, "project")
                for m in body.get("milestones", ())
                if m.get("due_date") and date.fromisoformat(m["due_date"]) <= day
                for story in [repos.system_ids(s, "milestone", m["id"]).get("kantata")]
                if story and m["id"] not in self.result._completed
            ]
        for milestone_id, story in due:
            psa.complete_milestone(story)
            self.result._completed.add(milestone_id)
            self.result.milestones_completed += 1

    def _accept(self, day: date) -> None:
        with self.c.db.session() as s:
            waiting = [
                r.milestone_id
                for r in invoices.milestones_in(s, ("blocked",))
                if r.accepted_at is None
                and r.completed_at is not None
                and r.completed_at.date() + timedelta(days=ACCEPTANCE_DAYS) <= day
            ]
        for milestone_id in waiting:
            milestone_intake.accept(self.c, milestone_id, "customer:demo")

    def _credit_note(self) -> None:
        workflow = credit_notes.credit_one_for_demo(self.c, "demo: a rate was corrected")
        if workflow is not None:
            result_of(workflow)
            self.result.events.append(f"{CREDIT_NOTE_ON}: credit note on a T&M invoice line")

    def _pay(self, day: date) -> None:
        erp: Any = self.c.erp
        with self.c.db.session() as s:
            due = [
                r
                for r in s.scalars(select(InvoiceRow).order_by(InvoiceRow.invoice_id))
                if r.erp_id
                and r.remaining
                and r.invoice_date + timedelta(days=PAYMENT_DAYS) <= day
                and r.invoice_id not in self.result._paid
            ]
            customers = {r.invoice_id: _customer(s, r.contract_id) for r in due}
        for n, row in enumerate(due):
            customer = customers[row.invoice_id]
            if customer is None or row.erp_id is None or row.remaining is None:
                continue
            half = n == 0 and self.result.payments_applied == 0
            amount = (row.remaining / 2).quantize(Decimal("0.01")) if half else row.remaining
            money = Money.of(amount, row.currency)
            erp.apply_payment(
                PaymentDraft(
                    canonical_id=canonical_id("payment", "bank", f"{row.invoice_id}:{day}"),
                    customer_id=customer,
                    amount=money,
                    tran_date=day,
                    applications=(
                        PaymentApplication(invoice_internal_id=row.erp_id, amount=money),
                    ),
                )
            )
            self.result.payments_applied += 1
            if not half:
                self.result._paid.add(row.invoice_id)
        if due:
            for workflow in payments.poll(self.c).workflows:
                result_of(workflow)

    # -- at each month end (before the forecast snapshot) --

    def month_end(self, period: str, first_open: str) -> None:
        """Invoice the month's T&M work and close every legal entity's ``period``."""
        invoice_date = date.fromisoformat(f"{first_open}-01")
        run = tm_invoicing.run_tm_invoicing(period, invoice_date=invoice_date, c=self.c)
        self.result.tm_runs.append({"period": period, **run})
        for workflow in credit_notes.poll(self.c).workflows:
            result_of(workflow)
        with self.c.db.session() as s:
            entities = sorted({b["legal_entity"] for b in _records(s, "contract")})
        for entity in entities:
            workflow = close_flow.start(close_flow.CloseMonthInput(entity=entity, period=period))
            outcome = result_of(workflow)
            self.result.closes.append({"entity": entity, "period": period, **_brief(outcome)})
        self.result.events.append(
            f"{first_open}-01: {period} invoiced ({run['invoices_created']} T&M invoices) and "
            f"closed for {', '.join(entities)}"
        )

    def finish(self, last_closed: str) -> None:
        from pshub.close.reconcile import reconcile_period

        report = reconcile_period(self.c, last_closed)
        self.result.reconciliation = {"period": last_closed, **_recon_brief(report)}

    def summary(self) -> dict[str, Any]:
        r = self.result
        tm = tm_invoicing.summary(self.c)
        with self.c.db.session() as s:
            milestone_invoices = sum(
                1 for row in s.scalars(select(InvoiceRow)) if row.source == "milestone"
            )
            statuses = Counter(row.status for row in s.scalars(select(MilestoneBillingRow)))
        return {
            "milestones_completed": r.milestones_completed,
            "milestones_by_status": dict(sorted(statuses.items())),
            "invoices_created": milestone_invoices + tm["invoices_created"],
            "invoices_by_source": {"milestone": milestone_invoices, "tm": tm["invoices_created"]},
            "payments_applied": r.payments_applied,
            "credit_notes": tm["credit_notes"],
            "change_orders_applied": change_order_demo.change_orders_applied(self.c),
            "double_billed_invoices": tm["double_billed"],
            "closes": len(r.closes),
            "closes_locked": sum(1 for x in r.closes if x.get("status") == "locked"),
            "reconciliation": r.reconciliation,
        }


def _records(s: Any, entity_type: str) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(CanonicalRecord.body)
        .where(CanonicalRecord.entity_type == entity_type)
        .order_by(CanonicalRecord.canonical_id)
    )
    return [dict(b) for b in rows]


def _customer(s: Any, contract_id: str) -> str | None:
    contract = repos.get_record(s, "contract", contract_id)
    if contract is None:
        return None
    return repos.system_ids(s, "account", str(contract["account_id"])).get("netsuite")


def _brief(outcome: Any) -> dict[str, Any]:
    if not isinstance(outcome, dict):
        return {"status": str(outcome)}
    return {
        "status": outcome.get("status"),
        "contracts": outcome.get("contracts"),
        "revenue": outcome.get("revenue"),
        "journals": len(outcome.get("journals") or ()),
    }


def _recon_brief(report: dict[str, Any]) -> dict[str, Any]:
    return {"contracts": len(report.get("contracts") or ()), **(report.get("summary") or {})}
