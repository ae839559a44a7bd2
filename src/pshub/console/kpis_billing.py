"""Time-to-bill KPIs for the console (registered into :mod:`pshub.console.kpis`).

* days to bill: ERP posting date - approval date, per posted billable line (glossary), with the
  amount-weighted mean and the p95;
* billing exception rate: work items held or blocked / all work items seen;
* unbilled approved work: posted but not yet invoiced, plus held or blocked (by currency).

Figures shown are display values; the money itself is summed as Decimal per currency.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pshub.console.kpis import MAX_ROWS, Kpi, register
from pshub.console.queries import percentile
from pshub.store.tables import BillingLineRow, BillingState, BusinessException, WorkItemRow


@register
def days_to_bill(s: Session, now: datetime) -> Kpi:
    found = s.execute(
        select(BillingLineRow.posting_date, BillingLineRow.approved_at, BillingLineRow.amount)
        .where(
            BillingLineRow.status == "posted",
            BillingLineRow.action == "post",
            BillingLineRow.posting_date.is_not(None),
            BillingLineRow.approved_at.is_not(None),
            BillingLineRow.posted_at >= now - timedelta(days=30),
        )
        .order_by(BillingLineRow.posted_at.desc())
        .limit(MAX_ROWS * 4)
    ).all()
    rows: list[tuple[date, datetime, Decimal]] = [
        (p, a, amt) for p, a, amt in found if p is not None and a is not None
    ]
    days = [((posted - approved.date()).days, amount) for posted, approved, amount in rows]
    weight = sum((a for _, a in days), Decimal(0))
    weighted = (sum((Decimal(d) * a for d, a in days), Decimal(0)) / weight) if weight else None
    by_day: dict[str, list[float]] = {}
    for (posted, _, _), (d, _) in zip(rows, days, strict=True):
        by_day.setdefault(posted.isoformat(), []).append(float(d))
    series = [(day, percentile(values, 50) or 0.0) for day, values in sorted(by_day.items())]
    return Kpi(
        key="days_to_bill",
        title="Days to bill (approval to ERP posting)",
        unit=" days",
        headline=float(weighted) if weighted is not None else None,
        headline_label=(
            f"amount-weighted mean of {len(days)} lines; p95 "
            f"{percentile([float(d) for d, _ in days], 95) or 0:.0f} days"
        ),
        series=series[-14:],
        note="Business days are the billing run's as-of date; approvals come from the PSA.",
    )


@register
def billing_exception_rate(s: Session, now: datetime) -> Kpi:
    counts = dict(
        s.execute(select(WorkItemRow.status, func.count()).group_by(WorkItemRow.status)).all()
    )
    total = sum(int(n) for n in counts.values())
    blocked = int(counts.get("held", 0)) + int(counts.get("error", 0))
    return Kpi(
        key="billing_exception_rate",
        title="Billing events blocked by an exception",
        unit=" %",
        headline=100.0 * blocked / total if total else None,
        headline_label=f"{blocked} of {total} time entries and expenses held or blocked",
        note="Held by a billing hold, or blocked by a finding (missing rate, unknown project, "
        "ERP refusal) until fixed.",
    )


@register
def unbilled_approved_work(s: Session, now: datetime) -> Kpi:
    totals: dict[str, Decimal] = {}
    for currency, amount in s.execute(
        select(BillingState.currency, BillingState.amount).where(BillingState.state == "posted")
    ):
        if currency and amount is not None:
            totals[currency] = totals.get(currency, Decimal(0)) + amount
    for currency, amount in s.execute(
        select(BusinessException.currency, BusinessException.amount).where(
            BusinessException.flow == "time_to_bill", BusinessException.status != "resolved"
        )
    ):
        if currency and amount is not None:
            totals[currency] = totals.get(currency, Decimal(0)) + amount
    text = ", ".join(f"{c} {v:,.2f}" for c, v in sorted(totals.items())) or "none"
    return Kpi(
        key="unbilled_approved_work",
        title="Unbilled approved work",
        unit="",
        headline=None,
        headline_label=text,
        note="Approved time and expenses posted to the ERP but not yet invoiced, plus approved "
        "work held or blocked, at bill rates, per currency.",
    )
