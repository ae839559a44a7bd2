"""Hub ledger vs ERP postings: every time bill the hub posted is in the ERP, and the ERP has
none the hub does not know.

Per project, the ERP's time bills on the project's job (``timeBill`` where ``customer`` is
the job, read through the connector) are compared, by NetSuite internal id, with the hub's
posted time lines (a reversal updates the same ERP record, so it adds none).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pshub.close.facts import ContractInfo
from pshub.close.reconcile_types import Difference
from pshub.store.tables import BillingLineRow


def hub_time_postings(session: Session) -> dict[str, dict[str, tuple[str, Decimal, str]]]:
    """PSA project id -> {ERP internal id: (line key, amount, currency)} of posted time."""
    t = BillingLineRow
    rows = session.execute(
        select(t.project_id, t.erp_id, t.key, t.amount, t.currency).where(
            t.status == "posted", t.action == "post", t.source_key.like("time:%")
        )
    )
    out: dict[str, dict[str, tuple[str, Decimal, str]]] = {}
    for project_id, erp_id, key, amount, currency in rows:
        if erp_id:
            out.setdefault(project_id, {})[str(erp_id)] = (key, amount, currency)
    return out


def compare_time_bills(
    erp: Any, info: ContractInfo, hub: dict[str, tuple[str, Decimal, str]]
) -> list[Difference]:
    """Differences between the hub's posted time of one project and the ERP's time bills."""
    if not info.erp_job_id or not hasattr(erp, "find_ids"):
        return []
    in_erp = set(erp.find_ids("timeBill", f'customer IS "{info.erp_job_id}"'))
    out = []
    for erp_id, (key, amount, currency) in sorted(hub.items()):
        if erp_id not in in_erp:
            out.append(
                Difference(
                    "missing_posting",
                    info.contract_id,
                    amount,
                    currency,
                    "time the hub posted is not in the ERP",
                    (f"pshub:billing_line:{key}", f"netsuite:timeBill:{erp_id}"),
                )
            )
    for erp_id in sorted(in_erp - set(hub)):
        out.append(
            Difference(
                "unexplained",
                info.contract_id,
                Decimal(0),
                info.currency,
                "a time bill on the project's ERP job that the hub did not post",
                (f"netsuite:timeBill:{erp_id}", f"netsuite:job:{info.erp_job_id}"),
            )
        )
    return out
