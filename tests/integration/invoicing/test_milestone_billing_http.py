"""milestone_billing over real HTTP: a milestone completed in Kantata becomes one NetSuite
invoice whose number and status reach the Kantata billing milestone and the Salesforce
opportunity; blocked milestones wait with a finding and their amount. SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from decimal import Decimal

from pshub.flows import milestone_billing, milestone_intake
from pshub.policy import DEFAULT_POLICY_DIR
from pshub.store import billing as billing_repo
from pshub.store import repos
from tests.integration.invoicing.conftest import Deal


def exceptions(deal: Deal, status: str = "open") -> dict[str, tuple[str, Decimal | None]]:
    with deal.stack.container.db.session() as s:
        rows = repos.list_exceptions(s, status=status, flow=milestone_billing.FLOW)
        return {r.source_record: (r.reason_code, r.amount) for r in rows}


def test_a_milestone_completed_twice_yields_one_invoice_whose_number_reaches_psa_and_crm(
    deal: Deal,
) -> None:
    design, _ = deal.milestones
    deal.complete(design)
    assert deal.poll().milestones == 1
    deal.settle(design, "invoiced")
    deal.complete(design)  # completed again in the PSA, and the whole feed read again
    with deal.stack.container.db.session() as s:
        billing_repo.set_cursor(s, "kantata:changes", None)
    assert deal.poll().milestones == 0
    (invoice,) = deal.records("netsuite", "invoice")
    assert invoice["entity"]["refName"]  # billed to the project (job) under the customer
    assert (invoice["subsidiary"]["id"], invoice["status"]["refName"]) == ("2", "Open")
    (line,) = invoice["item"]["items"]
    assert (Decimal(str(line["amount"])), line["taxCode"]["id"]) == (Decimal(40000), "11")
    (ref,) = deal.invoice_refs()
    assert (ref["service_model_ref"], ref["external_status"]) == (invoice["tranId"], "Open")
    assert len(deal.records("kantata", "billing_milestones")) == 1
    crm = deal.opportunity_fields(
        "Last_Invoice_Number__c", "Billing_Status__c", "Invoiced_Amount__c", "Paid_Amount__c"
    )
    assert crm["Last_Invoice_Number__c"] == invoice["tranId"]
    assert crm["Billing_Status__c"] == "Invoiced"
    assert (Decimal(str(crm["Invoiced_Amount__c"])), Decimal(str(crm["Paid_Amount__c"]))) == (
        Decimal(40000),
        Decimal(0),
    )
    with deal.stack.container.db.session() as s:
        runs = repos.runs_for(s, milestone_billing.correlation_id_for(design.id))
    assert [r.status for r in runs] == ["completed"]


def test_blocked_milestones_get_findings_with_their_amounts_and_no_invoice_until_unblocked(
    deal: Deal,
) -> None:
    design, go_live = deal.milestones
    with deal.stack.container.db.session() as s:
        billing_repo.set_hold(s, "project", deal.workspace, "PO expired", "finance")
    deal.complete(go_live)  # out of order, and the project is on hold
    deal.complete(design)
    assert deal.poll().milestones == 2
    deal.settle(design, "blocked")
    deal.settle(go_live, "blocked")
    assert exceptions(deal) == {
        design.id: ("project.billing_hold", Decimal("40000.00")),
        go_live.id: ("milestone.prior_not_invoiced", Decimal("80000.00")),
    }
    assert deal.records("netsuite", "invoice") == []
    deal.poll()  # still held: nothing moves
    assert deal.status(design) == "blocked"
    with deal.stack.container.db.session() as s:
        billing_repo.lift_hold(s, "project", deal.workspace, "finance")
    deal.poll()  # the feed poll re-checks what waits
    deal.settle(design, "invoiced")
    deal.settle(go_live, "invoiced")  # released when the earlier milestone was invoiced
    invoices = deal.records("netsuite", "invoice")
    assert sorted(Decimal(str(i["total"])) for i in invoices) == [Decimal(40000), Decimal(80000)]
    assert exceptions(deal) == {}
    assert set(exceptions(deal, "resolved")) == {design.id, go_live.id}


def test_a_netsuite_outage_during_invoicing_is_waited_out(deal: Deal) -> None:
    design, _ = deal.milestones
    with deal.stack.sandboxes.admin("netsuite") as admin:
        admin.post("/_sandbox/outage", json={"seconds": 3}).raise_for_status()
    deal.complete(design)
    deal.poll()
    deal.settle(design, "invoiced")
    assert len(deal.records("netsuite", "invoice")) == 1
    with deal.stack.container.db.session() as s:
        hops = repos.audit_trail(s, milestone_billing.correlation_id_for(design.id))
        actions = [h.action for h in hops]
    assert "flow.waiting" in actions
    assert actions.index("flow.waiting") < actions.index("flow.completed")


def test_a_milestone_needing_acceptance_waits_for_the_customer_and_is_then_invoiced(
    deal: Deal,
) -> None:
    design, _ = deal.milestones
    local = deal.stack.settings.data_dir / "policy"  # as the console edits policy
    shutil.copytree(DEFAULT_POLICY_DIR, local)
    text = (local / "invoicing.yaml").read_text()
    (local / "invoicing.yaml").write_text(text.replace("[ADVISORY]", "[ADVISORY, ERP-IMPL]"))
    deal.complete(design)
    deal.poll()
    deal.settle(design, "blocked")
    assert exceptions(deal) == {design.id: ("milestone.acceptance_required", Decimal("40000.00"))}
    deal.poll()
    assert deal.status(design) == "blocked" and deal.records("netsuite", "invoice") == []
    milestone_intake.accept(deal.stack.container, design.id, "cfo@globex.example")
    deal.settle(design, "invoiced")
    assert len(deal.records("netsuite", "invoice")) == 1
