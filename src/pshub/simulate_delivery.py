"""A simulated quarter of delivery for the demo: time logged, approved, billed — and the snags.

Runs against the live sandboxes and hub (see :mod:`pshub.demo`). The PSA sandbox's clock is
set to each simulated moment, so approvals carry simulated timestamps and days-to-bill is
measured in simulated days. Each business day consultants log time on the provisioned projects
(billable on time-and-materials projects, cost-only elsewhere); timesheets are approved on
Mondays (the last October week is approved after the October cutoff, so it rolls into
November); a billing run follows every evening. On the way: a project billing hold is set and
lifted, one posted entry is un-approved (a reversal), and one entry is still on hold at the end.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pshub.flows import psa_feed, time_to_bill
from pshub.flows.durable import result_of
from pshub.stack import Stack
from pshub.store import billing as billing_repo
from pshub.store import repos

CONSULTANTS = ("2002", "2003", "2004", "2005", "2006")
START = date(2026, 10, 26)
DAYS = 96  # a quarter of delivery: through 29 January


@dataclass
class DeliveryResult:
    approved: int = 0
    posted: int = 0
    held_now: int = 0
    held_amount: dict[str, str] = field(default_factory=dict)
    held_during_month: int = 0
    reversed: int = 0
    rolled_past_cutoff: int = 0
    double_billed: int = 0
    runs: int = 0
    assignments: int = 0
    days_to_bill: dict[str, Any] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "time_entries_approved": self.approved,
            "time_entries_posted": self.posted,
            "time_entries_held": self.held_now,
            "held_amount": self.held_amount,
            "time_entries_held_during_month": self.held_during_month,
            "reversals": self.reversed,
            "rolled_past_cutoff": self.rolled_past_cutoff,
            "double_billed": self.double_billed,
            "billing_runs": self.runs,
            "assignments": self.assignments,
            "days_to_bill": self.days_to_bill,
        }


def simulate_delivery(
    stack: Stack,
    projects: list[tuple[str, bool]],
    seed: int,
    on_day: Callable[[int, int], None] | None = None,
    on_month_end: Callable[[str], None] | None = None,
    on_evening: Callable[[date], None] | None = None,
) -> DeliveryResult:
    """``projects``: (PSA project id, billable?) of the provisioned projects. ``on_month_end``
    is called with the first open month when a simulated month closes (and at the end),
    ``on_evening`` with the day after each business day's billing run."""
    rng = random.Random(seed * 7919 + 1)
    psa: Any = stack.container.psa
    result = DeliveryResult()
    logged: dict[date, list[str]] = {}
    approved: set[str] = set()
    held_seen: set[str] = set()
    billable_projects = [p for p, billable in projects if billable]
    hold_target = billable_projects[0] if billable_projects else None
    # its own generator: staffing does not change the delivery drawn from ``rng``
    result.assignments = _staff(psa, billable_projects, random.Random(seed * 31 + 5))
    result.events.append(f"{START}: {result.assignments} consultants assigned to T&M tasks")
    unapprove_target: str | None = None
    with stack.sandboxes.admin("kantata") as clock:
        for n in range(DAYS):
            day = START + timedelta(days=n)
            if on_day:
                on_day(n, DAYS)
            if on_month_end and n and day.day == 1:
                on_month_end(f"{day:%Y-%m}")
            if day.weekday() >= 5:
                continue
            _set_clock(clock, day, time(9, 0))
            # Mondays: last week's timesheets are approved; on 2 November the approver is out,
            # so October's last week is approved on the 3rd, after the October cutoff.
            if (day.weekday() == 0 and day != date(2026, 11, 2)) or day == date(2026, 11, 3):
                week = [e for d, ids in logged.items() if d < day for e in ids if e not in approved]
                if week:
                    psa.approve(week)
                    approved.update(week)
                    result.events.append(f"{day}: approved {len(week)} entries")
            _set_clock(clock, day, time(17, 0))
            logged[day] = [
                psa.create_time_entry(
                    project,
                    day,
                    60 * rng.randrange(2, 9),
                    key=f"sim-{day}-{user}-{k}",
                    user_id=user,
                    billable=billable,
                )
                for user in CONSULTANTS
                for k, (project, billable) in enumerate(
                    rng.sample(projects, k=min(len(projects), rng.randrange(1, 3)))
                )
            ]
            if hold_target and day == date(2026, 11, 4):
                _hold(stack, "project", hold_target, "set", "customer PO expired")
                result.events.append(f"{day}: billing hold on project {hold_target}")
            if hold_target and day == date(2026, 11, 12):
                _hold(stack, "project", hold_target, "lift", "")
                result.events.append(f"{day}: hold lifted on project {hold_target}")
            if day == date(2026, 11, 10) and unapprove_target is None:
                unapprove_target = _posted_entry(stack)
                if unapprove_target:
                    psa.unapprove([unapprove_target], "logged against the wrong project")
                    approved.discard(unapprove_target)
                    result.events.append(
                        f"{day}: the timesheet holding posted entry {unapprove_target} was "
                        "rejected (every entry on it is reversed; the one corrected is "
                        "re-approved next week)"
                    )
            if day == date(2026, 11, 25) and billable_projects:
                entry = logged[day][0]
                psa.approve([entry])
                approved.add(entry)
                _hold(stack, "entry", f"time:{entry}", "set", "hours under dispute")
                result.events.append(f"{day}: entry {entry} on billing hold")
            _bill(stack, day, result)
            if on_evening:
                on_evening(day)
            with stack.container.db.session() as s:
                held_seen.update(_held_ids(s))
    if on_month_end:
        end = START + timedelta(days=DAYS)
        on_month_end(f"{end.year + end.month // 12}-{end.month % 12 + 1:02d}")
    return _finish(stack, result, approved, held_seen)


def _staff(psa: Any, projects: list[str], rng: random.Random) -> int:
    """Resource managers staff the T&M projects: each consultant on the first task of one or
    two projects for the quarter (what the forecast's T&M backlog is built from)."""
    if not projects or not hasattr(psa, "assign"):
        return 0
    tasks = {}
    for project in projects:
        found = list(psa.list("stories", workspace_id=project, story_type="task"))
        if found:
            tasks[project] = str(min(found, key=lambda r: int(r["id"]))["id"])
    count = 0
    for user in CONSULTANTS:
        for project in rng.sample(sorted(tasks), k=min(len(tasks), rng.randrange(1, 3))):
            psa.assign(tasks[project], user, 60 * rng.randrange(80, 240))
            count += 1
    return count


def _set_clock(client: Any, day: date, at: time) -> None:
    client.put(
        "/_sandbox/clock", json={"now": datetime.combine(day, at, UTC).isoformat()}
    ).raise_for_status()


def _hold(stack: Stack, scope: str, target: str, action: str, reason: str) -> None:
    with stack.container.db.session() as s:
        if action == "set":
            billing_repo.set_hold(s, scope, target, reason, "demo:finance")
        else:
            billing_repo.lift_hold(s, scope, target, "demo:finance")
        repos.audit(
            s,
            action=f"billing.hold.{action}",
            actor="demo:finance",
            entity_type=scope,
            entity_id=target,
            reason=reason,
        )


def _bill(stack: Stack, day: date, result: DeliveryResult) -> None:
    psa_feed.poll(stack.container)
    as_of = datetime.combine(day, time(20, 0), UTC)
    workflow = time_to_bill.start(time_to_bill.BillingRunInput(run_id=f"sim-{day}", as_of=as_of))
    result_of(workflow)
    result.runs += 1


def _posted_entry(stack: Stack) -> str | None:
    from sqlalchemy import select

    from pshub.store.tables import BillingState

    with stack.container.db.session() as s:
        key = s.scalars(
            select(BillingState.source_key)
            .where(
                BillingState.state == "posted",
                BillingState.source_key.like("time:%"),
                BillingState.amount.is_not(None),
            )
            .order_by(BillingState.source_key)
        ).first()
    return key.split(":", 1)[1] if key else None


def _held_ids(session: Any) -> set[str]:
    from sqlalchemy import select

    from pshub.store.tables import WorkItemRow

    return set(session.scalars(select(WorkItemRow.source_id).where(WorkItemRow.status == "held")))


def _finish(
    stack: Stack, result: DeliveryResult, approved: set[str], held_seen: set[str]
) -> DeliveryResult:

    from pshub.store.tables import BillingLedgerEntry, BillingState

    c = stack.container
    with c.db.session() as s:
        result.approved = len(approved)
        result.posted = int(
            s.query(BillingState)
            .filter(
                # posted to the ERP, whatever happened after (invoiced, credited)
                BillingState.state.in_(("posted", "invoiced", "rebillable")),
                BillingState.source_key.like("time:%"),
            )
            .count()
        )
        result.reversed = int(
            s.query(BillingLedgerEntry).filter(BillingLedgerEntry.action == "reverse").count()
        )
        result.rolled_past_cutoff = _rolled(s)
        held = _held_ids(s)
        result.held_now, result.held_during_month = len(held), len(held_seen)
        totals: dict[str, Decimal] = {}
        for exc in repos.list_exceptions(s, flow="time_to_bill", reason_code="billing.hold"):
            if exc.amount is not None and exc.currency:
                totals[exc.currency] = totals.get(exc.currency, Decimal(0)) + exc.amount
        result.held_amount = {k: str(v.quantize(Decimal("0.01"))) for k, v in totals.items()}
        result.days_to_bill = _days_to_bill(billing_repo.days_to_bill(s))
    result.double_billed = _double_billed(stack)
    return result


def _rolled(session: Any) -> int:
    """Entries billed in a later period than the month they were worked (cutoff, closed)."""
    from sqlalchemy import select

    from pshub.store.tables import BillingLineRow, WorkItemRow

    worked = {
        f"{kind}:{sid}": str(body["work_date"])[:7]
        for kind, sid, body in session.execute(
            select(WorkItemRow.kind, WorkItemRow.source_id, WorkItemRow.body)
        )
    }
    periods = session.execute(
        select(BillingLineRow.source_key, BillingLineRow.period).where(
            BillingLineRow.action == "post", BillingLineRow.status == "posted"
        )
    )
    return len({key for key, period in periods if worked.get(key, period) < period})


def _days_to_bill(rows: list[tuple[date, datetime, Decimal]]) -> dict[str, Any]:
    """Simulated days from approval to ERP posting: mean, p95, and the amount-weighted mean."""
    days = sorted((posted - approved.date()).days for posted, approved, _ in rows)
    if not days:
        return {"lines": 0}
    weight = sum((amt for _, _, amt in rows), Decimal(0))
    weighted = (
        (sum((Decimal((p - a.date()).days) * amt for p, a, amt in rows), Decimal(0)) / weight)
        if weight
        else None
    )
    p95 = days[min(len(days) - 1, max(0, -(-95 * len(days) // 100) - 1))]
    return {
        "lines": len(days),
        "mean": round(statistics.fmean(days), 2),
        "p95": p95,
        "amount_weighted_mean": None if weighted is None else str(round(weighted, 2)),
    }


def _double_billed(stack: Stack) -> int:
    """Entries with more than one live billable time bill in the ERP (must be 0)."""
    with stack.sandboxes.admin("netsuite") as admin:
        bills = admin.get("/_sandbox/records/timeBill").json()
    live: Counter[str] = Counter()
    for bill in bills:
        hours = Decimal(str(bill.get("hours") or 0))
        memo = str(bill.get("memo") or "")
        if hours > 0 and bill.get("isBillable") and memo.startswith("time "):
            live[memo.split()[1]] += 1
    return sum(1 for n in live.values() if n > 1)
