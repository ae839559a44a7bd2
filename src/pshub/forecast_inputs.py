"""Gather the forecast's inputs from the hub: contracts, plan, pipeline, capacity, actuals.

What each input comes from (and what stands in until the data is synced, docs/forecast.md):

- **contracts**: the canonical ``contract`` records deal-to-project saved, with the milestones
  of their ``project`` record (a milestone without a due date is due at the contract's end).
- **recognised to date and actuals**: for a closed period (locked by the month-end close,
  ``pshub close``) the revenue the close recognised per contract under ASC 606 — every billing
  model (T&M, accepted milestones, cost-to-cost, retainers); for a period not closed yet, the
  billable time **posted to the ERP** for the contract's project in that accounting period
  (time-to-bill's posted lines, reversals netted) as a provisional figure. Milestones invoiced
  before the as-of month are done (recognised), the others are backlog.
- **assignments**: the PSA's current resource assignments (Kantata ``/assignments``: a
  consultant on a task for estimated minutes), spread over the task's window (else its
  project's) by calendar days, in the consultant's role (``consultants.yaml``) at the
  contract's rate card. An open T&M contract with no assignment yet is demand not staffed with
  named people: it gets unnamed placeholder assignments per role and month from
  ``forecast.yaml`` (``staffing_plan``), as Kantata's unnamed resources stand for a role.
- **percent complete plans**: straight-line from the contract's start month to its end month.
- **pipeline**: the CRM's open opportunities (``IsClosed = false``), weighted by the stage
  probabilities of ``forecast.yaml``.
- **capacity**: each consultant of ``consultants.yaml`` with ``capacity.monthly_hours``.

Posted data is filtered by the as-of month, so a forecast "as of" an earlier month sees only
the actuals closed before it (history for the backtest).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pshub import forecast_staffing as staffing_inputs
from pshub.domain.findings import Finding, Severity
from pshub.domain.forecast import (
    Actual,
    ContractForecastInput,
    ForecastInputs,
    MilestonePlan,
    OpenOpportunity,
    PercentCompletePoint,
    add_months,
    month_index,
    month_label,
)
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel
from pshub.domain.staffing import PlannedWork
from pshub.policy import Policy
from pshub.policy.forecast import ForecastPolicy
from pshub.store.billing import closed_periods
from pshub.store.close_tables import CloseContractResult
from pshub.store.invoicing_tables import InvoiceRow
from pshub.store.tables import BillingLineRow, CanonicalRecord, CrossReference

if TYPE_CHECKING:
    from pshub.connectors.anaplan import AnaplanConnector
    from pshub.flows.forecast import AnaplanSettings

HOURS = Decimal("0.01")
OPEN_OPPORTUNITIES_SOQL = (
    "SELECT Id, Name, StageName, Amount, CurrencyIsoCode, CloseDate, Legal_Entity__c, "
    "Service_Line__c, Start_Date__c, End_Date__c FROM Opportunity WHERE IsClosed = false "
    "ORDER BY Id"
)


@dataclass
class Gathered:
    """The inputs of one run, with what gathering could not use (findings)."""

    inputs: ForecastInputs
    findings: list[Finding] = field(default_factory=list)


@dataclass
class _Posted:
    """Revenue of one contract by (period, currency): recognised by the month-end close for
    closed periods (``recognised``), else its posted billable time (provisional)."""

    project_id: str
    by_period: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    recognised: set[str] = field(default_factory=set)  # periods closed (figures from the close)


def gather(
    session: Session,
    policy: Policy,
    rules: ForecastPolicy,
    opportunities: Sequence[OpenOpportunity],
    as_of_month: str,
    horizon_months: int,
    staffing: Sequence[PlannedWork] | None = None,
) -> Gathered:
    """Everything a run reads from the hub's store, for the months from ``as_of_month``;
    ``staffing``: the PSA's assignments (``None``: not available, every T&M contract is
    planned from the staffing plan)."""
    findings: list[Finding] = []
    contracts, projects = _records(session)
    posted = _posted(session, as_of_month, projects, findings)
    _recognised(session, as_of_month, projects, posted)
    done = _billed_milestones(session, as_of_month)
    built = [
        _contract(c, projects.get(c["id"]), posted.get(c["id"]), findings, done) for c in contracts
    ]
    usable = [c for c in built if c is not None]
    months = [add_months(as_of_month, k) for k in range(horizon_months)]
    cards = {str(c["id"]): str(c.get("rate_card") or "") for c in contracts}
    staffed = staffing_inputs.staffed(
        _psa_projects(session), usable, projects, staffing or (), cards, policy, months, findings
    )
    unstaffed = [c for c in usable if c.id not in {a.contract_id for a in staffed}]
    inputs = ForecastInputs(
        contracts=tuple(usable),
        assignments=(
            *staffed,
            *staffing_inputs.planned(unstaffed, cards, policy, rules, months, findings),
        ),
        opportunities=tuple(opportunities),
        stage_probabilities=rules.probabilities(),
        capacity=tuple(staffing_inputs.capacity(policy, rules, months)),
        actuals=tuple(_actuals(usable, posted)),
    )
    return Gathered(inputs=inputs, findings=findings)


def gather_actuals(session: Session, before_month: str) -> list[Actual]:
    """Actual revenue of every month before ``before_month`` (recognised by the close for
    closed periods, posted billable time before a period is closed)."""
    findings: list[Finding] = []
    contracts, projects = _records(session)
    posted = _posted(session, before_month, projects, findings)
    _recognised(session, before_month, projects, posted)
    built = [_contract(c, projects.get(c["id"]), posted.get(c["id"]), findings) for c in contracts]
    return _actuals([c for c in built if c is not None], posted)


# --- the hub's records -------------------------------------------------------------------------


def _records(session: Session) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Canonical contracts (by id) and each contract's project record."""
    rows = session.execute(
        select(CanonicalRecord.entity_type, CanonicalRecord.body)
        .where(CanonicalRecord.entity_type.in_(("contract", "project")))
        .order_by(CanonicalRecord.canonical_id)
    )
    contracts, projects = [], {}
    for kind, body in rows:
        if kind == "contract":
            contracts.append(body)
        else:
            projects[str(body["contract_id"])] = body
    return contracts, projects


def _psa_projects(session: Session) -> dict[str, str]:
    """PSA project (workspace) id -> canonical project id."""
    return dict(
        session.execute(
            select(CrossReference.system_id, CrossReference.canonical_id).where(
                CrossReference.entity_type == "project", CrossReference.system_type == "workspace"
            )
        ).all()
    )


def _posted(
    session: Session, before: str, projects: dict[str, dict[str, Any]], findings: list[Finding]
) -> dict[str, _Posted]:
    """Posted billable amounts per contract, for accounting periods before ``before``."""
    psa_to_project = _psa_projects(session)
    contract_of = {p["id"]: contract for contract, p in projects.items()}
    t = BillingLineRow.__table__.c
    rows = session.execute(
        select(t.project_id, t.period, t.currency, t.action, t.amount).where(
            t.status == "posted", t.period < before
        )
    )
    out: dict[str, _Posted] = {}
    for psa_project, period, currency, action, amount in rows:
        contract = contract_of.get(psa_to_project.get(psa_project, ""))
        if contract is None:
            findings.append(_unmapped(psa_project))
            continue
        entry = out.setdefault(contract, _Posted(project_id=psa_project))
        entry.by_period[(period, currency)] += -amount if action == "reverse" else amount
    return out


def _recognised(
    session: Session, before: str, projects: dict[str, dict[str, Any]], out: dict[str, _Posted]
) -> None:
    """Closed periods before ``before``: each contract's revenue is what the month-end close
    recognised (every billing model), replacing the provisional posted time of that period."""
    locked = closed_periods(session)
    t = CloseContractResult.__table__.c
    rows = session.execute(
        select(t.legal_entity, t.period, t.contract_id, t.currency, t.revenue).where(
            t.period < before
        )
    )
    for entity, period, contract, currency, revenue in rows:
        if (entity, period) not in locked:
            continue  # a reopened period: provisional until closed again
        project = (projects.get(contract) or {}).get("id", "")
        entry = out.setdefault(contract, _Posted(project_id=project))
        if period not in entry.recognised:
            entry.recognised.add(period)
            for key in [k for k in entry.by_period if k[0] == period]:
                del entry.by_period[key]
        entry.by_period[(period, currency)] += revenue


def _billed_milestones(session: Session, before: str) -> set[str]:
    """Milestones invoiced before ``before`` (accepted where acceptance is required): done,
    so no longer backlog."""
    rows = session.execute(
        select(InvoiceRow.source_id, InvoiceRow.invoice_date).where(
            InvoiceRow.source == "milestone", InvoiceRow.erp_id.is_not(None)
        )
    )
    return {mid for mid, day in rows if f"{day:%Y-%m}" < before}


def _unmapped(psa_project: str) -> Finding:
    return Finding(
        code="actual_unmapped_project",
        message=f"posted time of PSA project {psa_project} has no canonical contract; left out",
        severity=Severity.WARNING,
        record=psa_project,
    )


def _contract(
    body: dict[str, Any],
    project: dict[str, Any] | None,
    posted: _Posted | None,
    findings: list[Finding],
    done: set[str] | None = None,
) -> ContractForecastInput | None:
    value = Money.model_validate(body["value"])
    if not body.get("start_date") or not body.get("end_date"):
        findings.append(
            Finding(
                code="contract_undated",
                message=f"contract {body['id']}: no start or end date; not forecast",
                severity=Severity.WARNING,
                record=body["id"],
                amount=value,
            )
        )
        return None
    start, end = date.fromisoformat(body["start_date"]), date.fromisoformat(body["end_date"])
    model = BillingModel(body["billing_model"])
    recognised = sum(
        (
            v
            for (_, ccy), v in (posted.by_period.items() if posted else ())
            if ccy == value.currency
        ),
        Decimal(0),
    )
    return ContractForecastInput(
        id=body["id"],
        version=int(body.get("version") or 1),
        opportunity_id=body.get("opportunity_id"),
        billing_model=model,
        currency=value.currency,
        legal_entity=body["legal_entity"],
        service_line=body["service_line"],
        value=value,
        recognised_to_date=Money.of(min(max(recognised, Decimal(0)), value.amount), value.currency),
        start_date=start,
        end_date=end,
        milestones=(
            _milestones(project, end, done or set())
            if model is BillingModel.FIXED_FEE_MILESTONE
            else ()
        ),
        percent_complete_plan=(
            _straight_line(start, end) if model is BillingModel.PERCENT_COMPLETE else ()
        ),
    )


def _milestones(
    project: dict[str, Any] | None, end: date, done: set[str]
) -> tuple[MilestonePlan, ...]:
    """The project's billable milestones not yet invoiced (those are recognised: actuals)."""
    return tuple(
        MilestonePlan(
            id=m["id"],
            due_date=date.fromisoformat(m["due_date"]) if m.get("due_date") else end,
            amount=Money.model_validate(m["amount"]),
        )
        for m in (project or {}).get("milestones", ())
        if m["id"] not in done
    )


def _straight_line(start: date, end: date) -> tuple[PercentCompletePoint, ...]:
    """Cumulative percent complete rising evenly to 100 % in the end month."""
    first, last = month_index(start.isoformat()[:7]), month_index(end.isoformat()[:7])
    n = last - first + 1
    return tuple(
        PercentCompletePoint(
            month=month_label(first + k),
            cumulative_percent=(Decimal(100) * (k + 1) / n).quantize(HOURS, ROUND_HALF_UP),
        )
        for k in range(n)
    )


def _actuals(
    contracts: Sequence[ContractForecastInput], posted: dict[str, _Posted]
) -> list[Actual]:
    """One actual per contract and period: revenue the close recognised (a closed period;
    sources: the contract and the close) or posted billable time, reversals netted
    (provisional; sources: the contract and its PSA project)."""
    out: list[Actual] = []
    for c in contracts:
        entry = posted.get(c.id)
        if entry is None:
            continue
        for (period, currency), amount in sorted(entry.by_period.items()):
            if not amount:
                continue
            closed = period in entry.recognised
            source = f"close:{c.legal_entity}:{period}" if closed else f"psa:{entry.project_id}"
            out.append(
                Actual(
                    id=f"{'recognised' if closed else 'posted'}:{c.id}:{period}:{currency}",
                    legal_entity=c.legal_entity,
                    service_line=c.service_line,
                    month=period,
                    amount=Money.of(amount, currency),
                    source_ids=(c.id, source),
                )
            )
    return out


# --- the CRM's open pipeline ---------------------------------------------------------------


def open_opportunities(
    crm: Any, rules: ForecastPolicy
) -> tuple[list[OpenOpportunity], list[Finding]]:
    """Open opportunities from the CRM (SOQL over the Salesforce connector's ``query``)."""
    from pshub.connectors.salesforce.mapping import SYSTEM, id18, to_money
    from pshub.domain.ids import canonical_id

    out: list[OpenOpportunity] = []
    findings: list[Finding] = []
    for row in crm.query(OPEN_OPPORTUNITIES_SOQL):
        source = id18(str(row["Id"]))
        amount = to_money(row.get("Amount"), row.get("CurrencyIsoCode") or "USD")
        entity, line = row.get("Legal_Entity__c"), row.get("Service_Line__c")
        if not entity or not line:
            findings.append(_unplaced_deal(source, amount))
            continue
        start, months = _deal_window(row, rules)
        out.append(
            OpenOpportunity(
                id=canonical_id("opportunity", SYSTEM, source),
                legal_entity=entity,
                service_line=line,
                stage=str(row["StageName"]),
                amount=amount,
                expected_start=start,
                duration_months=months,
            )
        )
    return out, findings


def _deal_window(row: dict[str, Any], rules: ForecastPolicy) -> tuple[date, int]:
    close = date.fromisoformat(str(row["CloseDate"]))
    lag = timedelta(days=rules.pipeline.start_lag_days)
    start = date.fromisoformat(row["Start_Date__c"]) if row.get("Start_Date__c") else close + lag
    if not row.get("End_Date__c"):
        return start, rules.pipeline.default_duration_months
    end = date.fromisoformat(row["End_Date__c"])
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return start, max(months, 1)


def _unplaced_deal(source: str, amount: Money) -> Finding:
    return Finding(
        code="pipeline_unmapped",
        message=f"opportunity {source}: no legal entity or service line; not in the pipeline",
        severity=Severity.WARNING,
        record=source,
        amount=amount,
    )


# --- FP&A --------------------------------------------------------------------------------------


def build_anaplan(settings: AnaplanSettings) -> AnaplanConnector:
    """The Anaplan connector for the configured model (the flow closes it after use)."""
    from pshub.connectors.anaplan import AnaplanConnector

    return AnaplanConnector(
        settings.auth_url,
        settings.api_url,
        settings.username,
        settings.password,
        workspace_id=settings.workspace_id,
        model_id=settings.model_id,
        timeout=settings.timeout_seconds,
        poll_interval=settings.poll_interval_seconds,
        poll_max_interval=max(settings.poll_interval_seconds, 2.0),
    )
