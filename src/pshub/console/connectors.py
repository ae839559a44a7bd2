"""Vendor connection health: configured limits, concurrency budget in use, calls by status
(counted by the instrumented HTTP clients), the vendors' own limit headers, recent errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pshub import observability
from pshub.bootstrap import Container
from pshub.console.queries import recent_actions
from pshub.store.tables import AuditEntry, BusinessException

# What each vendor publishes as its limits (shown beside what the hub observes).
PUBLISHED = {
    "salesforce": "Daily API request allocation per org (reported in Sforce-Limit-Info); "
    "REQUEST_LIMIT_EXCEEDED when exhausted.",
    "kantata": "Per-token request rate; 429 with Retry-After when exceeded.",
    "netsuite": "Account-wide concurrency limit shared by every integration; 429 "
    "CONCURRENCY_LIMIT_EXCEEDED beyond it.",
}


@dataclass
class ConnectorHealth:
    system: str
    port: str
    url: str | None
    published: str
    calls: dict[str, int] = field(default_factory=dict)
    p95_seconds: float | None = None
    budget: dict[str, int] | None = None
    limits: dict[str, str] = field(default_factory=dict)
    last_status: int | None = None
    last_error: dict[str, Any] | None = None

    @property
    def throttled(self) -> int:
        return self.calls.get("429", 0)

    @property
    def failed(self) -> int:
        return sum(n for s, n in self.calls.items() if s == "error" or s.startswith("5"))


def ports_of(c: Container) -> list[tuple[str, Any]]:
    """The container's vendor ports: crm, psa, erp and any extra port (e.g. FP&A)."""
    found: list[tuple[str, Any]] = [("crm", c.crm), ("psa", c.psa), ("erp", c.erp)]
    found += [(k, v) for k, v in c.extras.items() if hasattr(v, "system")]
    unique: dict[int, tuple[str, Any]] = {}
    for role, port in found:
        unique.setdefault(id(port), (role, port))
    return list(unique.values())


def connector_health(c: Container) -> list[ConnectorHealth]:
    calls = _samples("pshub_vendor_calls_total")
    out = []
    for role, port in ports_of(c):
        system = str(getattr(port, "system", role))
        state = observability.VENDOR_STATE.get(system, {})
        health = ConnectorHealth(
            system=system,
            port=role,
            url=getattr(c.settings, f"{system}_url", None),
            published=PUBLISHED.get(system, ""),
            calls={s: int(n) for (v, s), n in calls.items() if v == system},
            p95_seconds=_p95(system),
            budget=_budget(port),
            limits=dict(state.get("limits", {})),
            last_status=state.get("last_status"),
            last_error=state.get("last_error"),
        )
        out.append(health)
    return out


def _samples(name: str) -> dict[tuple[str, str], float]:
    values: dict[tuple[str, str], float] = {}
    for metric in observability.VENDOR_CALLS.collect():
        for sample in metric.samples:
            if sample.name == name:
                values[(sample.labels["vendor"], sample.labels["status"])] = sample.value
    return values


def _p95(vendor: str) -> float | None:
    """The 95th percentile from the latency histogram (upper bound of its bucket)."""
    buckets: list[tuple[float, float]] = []
    for metric in observability.VENDOR_LATENCY.collect():
        for sample in metric.samples:
            if sample.name.endswith("_bucket") and sample.labels.get("vendor") == vendor:
                buckets.append((float(sample.labels["le"]), sample.value))
    if not buckets or buckets[-1][1] == 0:
        return None
    buckets.sort()
    target = 0.95 * buckets[-1][1]
    return next(le for le, n in buckets if n >= target)


def _budget(port: Any) -> dict[str, int] | None:
    """A concurrency budget the connector holds (NetSuite's account-wide one), if any."""
    for value in [port, *vars(port).values()] if hasattr(port, "__dict__") else [port]:
        budget = getattr(value, "budget", None)
        if budget is not None and hasattr(budget, "in_flight"):
            return {"limit": budget.limit, "in_flight": budget.in_flight, "peak": budget.peak}
    return None


def recent_errors(s: Session, limit: int = 20) -> list[dict[str, Any]]:
    """Transient vendor errors flows waited out, and vendor-caused exceptions."""
    waits = recent_actions(s, ["flow.waiting"], limit)
    excs = s.scalars(
        select(BusinessException)
        .where(
            BusinessException.status == "open",
            BusinessException.reason_code.in_(
                ["vendor.rejected", "vendor.unauthorized", "transient.exhausted"]
            ),
        )
        .order_by(BusinessException.id.desc())
        .limit(limit)
    ).all()
    rows: list[dict[str, Any]] = [_wait(w) for w in waits]
    rows += [
        {"at": e.updated_at, "what": e.reason_code, "error": e.reason, "cid": e.correlation_id}
        for e in excs
    ]
    return sorted(rows, key=lambda r: r["at"], reverse=True)[:limit]


def _wait(w: AuditEntry) -> dict[str, Any]:
    what = f"waiting in {w.detail.get('step', '?')}"
    return {"at": w.at, "what": what, "error": w.detail.get("error"), "cid": w.correlation_id}
