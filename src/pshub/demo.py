"""The demo: seed a firm in the CRM sandbox, close its deals, watch the hub provision them.

The CLI renders progress and the summary; this module does the work and returns plain data.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pshub.policy import DEFAULT_POLICY_DIR
from pshub.settings import Settings
from pshub.simulate import Firm, build_firm, close_deals, seed_crm
from pshub.simulate_billing import BillingSimulation, previous_month
from pshub.simulate_delivery import simulate_delivery
from pshub.stack import Stack, start_stack
from pshub.store.tables import BusinessException, FlowRun

FINISHED = ("completed", "exception", "failed")
MARKER = "demo.json"
MONTH_MARKER = "demo-month.json"

# Where each sandbox keeps the records the hub writes, and the field holding pshub's external id.
EXTERNAL_ID_FIELDS: dict[str, dict[str, Callable[[dict[str, Any]], str | None]]] = {}


@dataclass
class DealOutcome:
    opportunity_id: str
    name: str
    status: str
    amount: str
    currency: str
    entity: str
    system_ids: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass
class DemoResult:
    seed: int
    deals_closed: int
    outcomes: list[DealOutcome]
    exceptions: list[dict[str, Any]]
    duplicates: dict[str, int]
    records: dict[str, dict[str, int]]
    seconds: float
    urls: dict[str, str]
    month: dict[str, Any] = field(default_factory=dict)
    month_events: list[str] = field(default_factory=list)

    @property
    def projects_provisioned(self) -> int:
        return sum(1 for o in self.outcomes if o.status == "completed")

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "deals_closed": self.deals_closed,
            "projects_provisioned": self.projects_provisioned,
            "exceptions": self.exceptions,
            "duplicates": self.duplicates,
            "duplicates_total": sum(self.duplicates.values()),
            "records": self.records,
            **self.month,
            "seconds": round(self.seconds, 2),
        }


def prepare_data_dir(data_dir: Path, fresh: bool) -> None:
    """``--fresh`` wipes the directory; the policy is copied there so the user can edit it."""
    if fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    policy = data_dir / "policy"
    if not policy.exists():
        shutil.copytree(DEFAULT_POLICY_DIR, policy)


def run(
    settings: Settings,
    *,
    seed: int,
    fresh: bool,
    latency_ms: float = 0,
    on_progress: Callable[[int, int], None] | None = None,
    on_day: Callable[[int, int], None] | None = None,
    timeout: float = 110.0,
) -> tuple[DemoResult, Stack]:
    """Run the demo; returns the result and the (still running) stack. The caller stops it."""
    started = time.monotonic()
    prepare_data_dir(settings.data_dir, fresh)
    stack = start_stack(settings, seed=seed, latency_ms=latency_ms)
    try:
        firm = build_firm(seed)
        ids = _seeded(stack, firm, settings.data_dir / MARKER)
        closed = [ids[o.key] for o in firm.won]
        _wait(stack, closed, on_progress, timeout)
        month = _month(stack, firm, ids, settings.data_dir / MONTH_MARKER, on_day)
        result = _result(stack, firm, ids, time.monotonic() - started)
        result.month, result.month_events = month["summary"], month["events"]
    except BaseException:
        stack.stop()
        raise
    return result, stack


def _seeded(stack: Stack, firm: Firm, marker: Path) -> dict[str, str]:
    """Seed and close once per data directory; a rerun reports on what is there."""
    if marker.exists():
        data = json.loads(marker.read_text())
        if data.get("seed") == firm.seed:
            return dict(data["ids"])
    crm: Any = stack.container.crm
    ids = seed_crm(firm, crm)
    marker.write_text(json.dumps({"seed": firm.seed, "ids": ids}, indent=1))
    close_deals(firm, crm, ids)
    return ids


def _month(
    stack: Stack,
    firm: Firm,
    ids: dict[str, str],
    marker: Path,
    on_day: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    """Simulate a quarter of delivery on the provisioned projects, once per data directory."""
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    projects: list[tuple[str, bool]] = []
    with stack.container.db.session() as s:
        for opp in firm.won:
            run = s.scalars(
                select(FlowRun).where(
                    FlowRun.correlation_id == f"deal:salesforce:{ids[opp.key]}",
                    FlowRun.status == "completed",
                )
            ).first()
            if run is not None and run.result:
                psa = run.result["system_ids"]["psa_project_id"]
                projects.append((psa, opp.billing_model == "Time & Materials"))
    forecasts: list[dict[str, Any]] = []
    billing = BillingSimulation(stack)
    closed: list[str] = []

    def snapshot(first_open_month: str) -> None:
        # Month end: invoice and close the month, then a forecast as of the first open month
        # (for the backtest; the last is published).
        from pshub.flows.forecast import forecast_history
        from pshub.simulate_delivery import DAYS, START

        period = previous_month(first_open_month)
        billing.month_end(period, first_open_month)
        closed.append(period)
        end = START + timedelta(days=DAYS)
        last = first_open_month > f"{end:%Y-%m}"
        forecasts.extend(forecast_history(stack, [first_open_month], publish=last))
        month_events.append(
            f"forecast snapshot as of {first_open_month}"
            + (" published to Anaplan" if last else "")
        )

    month_events: list[str] = []
    month = simulate_delivery(
        stack, projects, firm.seed, on_day, on_month_end=snapshot, on_evening=billing.evening
    )
    if closed:
        billing.finish(closed[-1])
    summary = month.summary()
    summary.update(billing.summary())
    # a line billed twice anywhere: posted twice to the ERP, or on two live invoices
    summary["double_billed"] = summary["double_billed"] + summary["double_billed_invoices"]
    summary["forecast"] = _forecast_summary(forecasts)
    data = {"summary": summary, "events": month.events + billing.result.events + month_events}
    marker.write_text(json.dumps(data, indent=1))
    return data


def _forecast_summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """What the demo's forecast runs produced (snapshot versions, what reached Anaplan)."""
    last = results[-1] if results else {}
    return {
        "snapshots": len(results),
        **{
            k: last.get(k)
            for k in ("version", "snapshot_id", "published", "rejected_rows", "movements")
            if k in last
        },
    }


def _wait(
    stack: Stack, closed: list[str], on_progress: Callable[[int, int], None] | None, timeout: float
) -> None:
    wanted = {f"deal:salesforce:{opp}" for opp in closed}
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        with stack.container.db.session() as s:
            finished = set(
                s.scalars(
                    select(FlowRun.correlation_id).where(
                        FlowRun.correlation_id.in_(wanted), FlowRun.status.in_(FINISHED)
                    )
                ).all()
            )
        done = len(finished)
        if on_progress:
            on_progress(done, len(wanted))
        if done == len(wanted):
            return
        time.sleep(0.2)
    raise TimeoutError(f"only {done} of {len(wanted)} deals finished within {timeout:.0f}s")


def _result(stack: Stack, firm: Firm, ids: dict[str, str], seconds: float) -> DemoResult:
    outcomes: list[DealOutcome] = []
    exceptions: list[dict[str, Any]] = []
    with stack.container.db.session() as s:
        for opp in firm.won:
            source_id = ids[opp.key]
            correlation = f"deal:salesforce:{source_id}"
            run = s.scalars(
                select(FlowRun)
                .where(FlowRun.correlation_id == correlation)
                .order_by(FlowRun.started_at.desc())
            ).first()
            outcome = DealOutcome(
                source_id,
                opp.name,
                run.status if run else "pending",
                opp.amount,
                opp.currency,
                opp.entity,
            )
            if run is not None and run.status == "completed" and run.result:
                outcome.system_ids = dict(run.result.get("system_ids", {}))
            exc = s.scalars(
                select(BusinessException).where(
                    BusinessException.correlation_id == correlation,
                    BusinessException.status != "resolved",
                )
            ).first()
            if exc is not None:
                outcome.reason = exc.reason
                exceptions.append(
                    {
                        "id": exc.id,
                        "opportunity_id": source_id,
                        "reason_code": exc.reason_code,
                        "reason": exc.reason,
                        "amount": opp.amount,
                        "currency": opp.currency,
                        "legal_entity": opp.entity,
                        "kind": exc.kind,
                    }
                )
            outcomes.append(outcome)
    records, duplicates = _sandbox_census(stack)
    return DemoResult(
        seed=firm.seed,
        deals_closed=len(firm.won),
        outcomes=outcomes,
        exceptions=exceptions,
        duplicates=duplicates,
        records=records,
        seconds=seconds,
        urls=stack.urls,
    )


def _sandbox_census(stack: Stack) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Record counts per sandbox collection, and records whose external id appears twice."""
    records: dict[str, dict[str, int]] = {}
    duplicates: dict[str, int] = {}
    for vendor in stack.sandboxes.urls:
        with stack.sandboxes.admin(vendor) as admin:
            counts = admin.get("/_sandbox/stats").json().get("records", {})
            # Collections starting with "_" are the sandbox's own bookkeeping.
            counts = {k: v for k, v in counts.items() if not k.startswith("_")}
            records[vendor] = counts
            dupes = 0
            for collection in counts:
                seen: Counter[str] = Counter()
                for rec in admin.get(f"/_sandbox/records/{collection}").json():
                    key = external_key(vendor, collection, rec)
                    if key:
                        seen[key] += 1
                dupes += sum(n - 1 for n in seen.values() if n > 1)
            duplicates[vendor] = dupes
    return records, duplicates


def external_key(vendor: str, collection: str, record: dict[str, Any]) -> str | None:
    """The external id pshub wrote into a sandbox record, if any (vendor-specific field)."""
    for name in ("externalId", "PSHub_Id__c", "PSHub_Contract_Id__c", "service_model_ref"):
        value = record.get(name)
        if isinstance(value, str) and value.startswith("PSHUB-"):
            # Kantata: one canonical milestone is referenced by its story and its billing
            # milestone (different ``service_model``s); a duplicate repeats both.
            return f"{collection}:{record.get('service_model', '')}:{value}"
    return None
