"""Change orders for the demo and tests: act as the people who approve them.

:func:`approve_change_orders` plays the account manager in Salesforce: on won fixed-fee
milestone deals it adds a line of new scope, raises the amount, extends the end date and sets
``Change_Order_Status__c`` to "Approved"; the sandbox relays the change event to the hub like
any other. :func:`book_order` plays the ERP: it puts the contract's current version on the
job's sales order, approved or pending approval. :func:`change_orders_applied` is the demo's
``change_orders_applied``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pshub.bootstrap import Container
from pshub.flows import change_intake, change_state
from pshub.flows.change_orders import erp_contracts, order_draft
from pshub.store import repos

ADDED_SHARE = Decimal("0.25")  # the new scope is a quarter of the deal


def approve_change_order(
    c: Container,
    opportunity_id: str,
    number: str,
    *,
    amount: Decimal,
    name: str = "Hypercare",
    service_date: date | None = None,
) -> None:
    """Approve one change order on a won opportunity: a new line of ``amount``."""
    crm: Any = c.crm
    opp = crm.query(f"SELECT Amount, End_Date__c FROM Opportunity WHERE Id = '{opportunity_id}'")[0]
    end = date.fromisoformat(str(opp["End_Date__c"]))
    when = service_date or end + timedelta(days=60)
    crm.add_opportunity_line(
        opportunity_id,
        {"Description": name, "Quantity": 1, "UnitPrice": str(amount), "ServiceDate": str(when)},
    )
    crm.update_opportunity(
        opportunity_id,
        {
            "Amount": str(Decimal(str(opp["Amount"])) + amount),
            "End_Date__c": str(max(end, when)),
            "Change_Order_Number__c": number,
            "Change_Order_Status__c": "Approved",
        },
    )


def approve_change_orders(c: Container, count: int = 2) -> list[str]:
    """Approve a change order on up to ``count`` provisioned milestone deals; their ids."""
    crm: Any = c.crm
    rows = crm.query(
        "SELECT Id, Amount, Change_Order_Number__c FROM Opportunity WHERE StageName = 'Closed Won'"
        " AND Provisioning_Status__c = 'Provisioned'"
        " AND Billing_Model__c = 'Fixed Fee Milestone' ORDER BY Id"
    )
    chosen = [r for r in rows if not r.get("Change_Order_Number__c")][:count]
    for n, row in enumerate(chosen, start=1):
        added = (Decimal(str(row["Amount"])) * ADDED_SHARE).quantize(Decimal(1))
        approve_change_order(c, str(row["Id"]), f"CO-{n:03d}", amount=added)
    return [str(r["Id"]) for r in chosen]


def book_order(c: Container, contract_id: str, *, approved: bool = True) -> str:
    """Put the contract's current version on the ERP sales order (as finance books it)."""
    with c.db.session() as s:
        terms = change_state.current_terms(s, contract_id, datetime.now(UTC))
        project_id = None if terms is None else change_state.project_id_of(s, terms.contract)
        ids = {} if project_id is None else repos.system_ids(s, "project", project_id)
    if terms is None or "netsuite" not in ids:
        raise LookupError(f"contract {contract_id} is not provisioned in the ERP")
    port: Any = erp_contracts()
    draft = order_draft(terms, ids["netsuite"], terms.contract.start_date or date.today())
    erp_id = str(port.upsert_contract_order(draft))
    port.set_order_status(erp_id, "B" if approved else "A")
    return erp_id


def change_orders_applied(c: Container) -> int:
    return change_intake.applied_count(c)
