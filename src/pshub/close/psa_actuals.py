"""PSA actuals vs the hub's ledger: every approved time entry is billed, or known to wait.

Per project, the PSA's approved time entries dated up to the period's end (Kantata
``GET /time_entries?workspace_id=…&approved=true&date_performed_between=…``, through the PSA
connector) are compared, entry by entry, with the hub's work items and posted time lines:

* approved in the PSA, posted by the hub with the same minutes — agrees;
* approved in the PSA, known to the hub but not posted yet — timing ``unbilled_wip`` (on a
  billing hold, approved after the cutoff, waiting for the next run, or held by an open
  exception such as a missing rate);
* approved in the PSA, posted with other minutes — break ``amount_mismatch`` (an edit the hub
  has not re-billed);
* approved in the PSA and unknown to the hub — break ``missing_posting`` (the change feed
  never delivered it);
* posted by the hub and no longer approved in the PSA — break ``amount_mismatch`` (an
  un-approval the hub has not reversed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pshub.close.facts import ContractInfo
from pshub.close.journals import period_end
from pshub.close.reconcile_types import Difference
from pshub.store.tables import BillingLineRow, WorkItemRow


@dataclass(frozen=True, slots=True)
class HubEntry:
    """What the hub holds of one PSA time entry."""

    status: str  # work item status: pending | held | done | error
    minutes: int  # of the version the hub knows
    work_date: str
    posted: bool  # a live posting (not reversed) is in the ERP
    posted_amount: Decimal
    currency: str


def hub_entries(session: Session, psa_projects: Iterable[str]) -> dict[str, dict[str, HubEntry]]:
    """PSA project id -> PSA time entry id -> what the hub holds of it."""
    projects = [p for p in psa_projects if p]
    if not projects:
        return {}
    t = BillingLineRow
    live: dict[str, tuple[Decimal, str]] = {}
    reversed_: set[str] = set()  # keys of the posting lines a reversal took back
    posts: list[tuple[str, str, Decimal, str]] = []
    rows = session.execute(
        select(t.key, t.source_key, t.action, t.amount, t.currency).where(
            t.status == "posted", t.project_id.in_(projects), t.source_key.like("time:%")
        )
    )
    for key, source_key, action, amount, currency in rows:
        if action == "reverse":  # "<posting key>:reverse:v<version>"
            reversed_.add(str(key).split(":reverse:", 1)[0])
        else:
            posts.append((str(key), str(source_key).split(":", 1)[1], Decimal(amount), currency))
    for key, entry, amount, currency in posts:
        if key not in reversed_:
            live[entry] = (amount, currency)
    items = session.execute(
        select(
            WorkItemRow.project_id, WorkItemRow.source_id, WorkItemRow.status, WorkItemRow.body
        ).where(WorkItemRow.kind == "time", WorkItemRow.project_id.in_(projects))
    )
    out: dict[str, dict[str, HubEntry]] = {}
    for project, source_id, status, body in items:
        amount, currency = live.get(str(source_id), (Decimal(0), ""))
        out.setdefault(str(project), {})[str(source_id)] = HubEntry(
            status=status,
            minutes=int(Decimal(str(body.get("hours") or 0)) * 60),
            work_date=str(body.get("work_date") or ""),
            posted=str(source_id) in live,
            posted_amount=amount,
            currency=currency,
        )
    return out


def psa_approved(psa: Any, workspace_id: str, period: str) -> dict[str, int]:
    """Approved time entries of the workspace dated up to the period's end: id -> minutes."""
    lister = getattr(psa, "list", None)
    if lister is None:
        return {}
    rows = lister(
        "time_entries",
        workspace_id=workspace_id,
        approved="true",
        date_performed_between=f"2000-01-01:{period_end(period).isoformat()}",
    )
    return {str(r["id"]): int(r["time_in_minutes"]) for r in rows if r.get("approved")}


def compare_psa_actuals(
    psa: Any, info: ContractInfo, period: str, hub: dict[str, HubEntry]
) -> list[Difference]:
    """Differences between the PSA's approved time of one project (``hub``: the hub's
    entries of that project) and the hub's ledger, through ``period``."""
    if not info.psa_project_id:
        return []
    approved = psa_approved(psa, info.psa_project_id, period)
    last_day = period_end(period).isoformat()
    out: list[Difference] = []

    def diff(category: str, entry: str, held: HubEntry | None, message: str) -> None:
        amount = held.posted_amount if held else Decimal(0)
        currency = (held.currency if held else "") or info.currency
        sources = (f"kantata:time_entry:{entry}", f"pshub:work_item:time:{entry}")
        out.append(Difference(category, info.contract_id, amount, currency, message, sources))

    for entry, minutes in sorted(approved.items()):
        held = hub.get(entry)
        if held is None:
            diff("missing_posting", entry, None, "approved in the PSA, never reached the hub")
        elif held.minutes != minutes:
            diff("amount_mismatch", entry, held, "the PSA's minutes differ from the hub's")
        elif not held.posted and held.status != "done":  # done, unposted: nothing to bill
            why = "an open exception" if held.status == "error" else held.status
            diff("unbilled_wip", entry, held, f"approved, not billed yet ({why})")
    for entry, held in sorted(hub.items()):
        if held.posted and entry not in approved and held.work_date <= last_day:
            diff("amount_mismatch", entry, held, "posted, no longer approved in the PSA")
    return out
