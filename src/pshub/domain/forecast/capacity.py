"""Capacity check: staffed versus needed hours, and the revenue at risk from the gap.

Demand is the planned hours of assignments. Per month:

1. a named consultant's hours are staffed up to their available hours (the sum of their
   capacity rows); hours beyond that are unstaffed (over-allocation), and hours they do
   not use join the pool of the role on their capacity row;
2. placeholder assignments (no consultant) of a role are staffed from that role's pool:
   capacity rows with no consultant plus the spare hours of step 1;
3. a group's unstaffed hours are shared over its assignments in proportion to their hours;
   the revenue at risk of an assignment is its unstaffed hours x bill rate (rounded
   half-up), and for time & materials never more than the revenue the forecast expects
   from that assignment (hours the cap already cut are not at risk twice).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from pshub.domain.forecast.inputs import Assignment, Capacity, ContractForecastInput
from pshub.domain.forecast.months import month_index
from pshub.domain.money import quantum
from pshub.domain.sales import BillingModel

ZERO = Decimal(0)
HOURS = Decimal("0.01")

# (legal entity, service line, currency, month index)
RiskKey = tuple[str, str, str, int]


class RiskCellDraft:
    """Needed, staffed and unstaffed hours of one cell and its lineage (assignment, amount)."""

    __slots__ = ("lineage", "needed", "unstaffed")

    def __init__(self) -> None:
        self.needed = ZERO
        self.unstaffed = ZERO
        self.lineage: list[tuple[str, str, Decimal]] = []  # (assignment, contract, amount)


def revenue_at_risk(
    assignments: Sequence[Assignment],
    capacity: Sequence[Capacity],
    contracts: Mapping[str, ContractForecastInput],
    tm_revenue: Mapping[str, Decimal],
    first: int,
    last: int,
) -> dict[RiskKey, RiskCellDraft]:
    """Capacity check over months ``first..last``; ``tm_revenue`` is per T&M assignment."""
    demand: dict[int, list[Assignment]] = defaultdict(list)
    for a in assignments:
        m = month_index(a.month)
        if first <= m <= last and a.contract_id in contracts and a.planned_hours > 0:
            demand[m].append(a)
    supply: dict[int, list[Capacity]] = defaultdict(list)
    for row in capacity:
        supply[month_index(row.month)].append(row)
    cells: dict[RiskKey, RiskCellDraft] = defaultdict(RiskCellDraft)
    for m in sorted(demand):
        for a in demand[m]:
            c = contracts[a.contract_id]
            cells[(c.legal_entity, c.service_line, c.currency, m)].needed += a.planned_hours
        for group, unstaffed in _unstaffed_groups(demand[m], supply.get(m, [])):
            _share(group, unstaffed, m, contracts, tm_revenue, cells)
    return dict(cells)


def _unstaffed_groups(
    demand: Sequence[Assignment], supply: Sequence[Capacity]
) -> list[tuple[list[Assignment], Decimal]]:
    """Groups of assignments (per consultant, then per placeholder role) and their gap."""
    named: dict[str, list[Assignment]] = defaultdict(list)
    placeholders: dict[str, list[Assignment]] = defaultdict(list)
    for a in demand:
        if a.consultant is None:
            placeholders[a.role].append(a)
        else:
            named[a.consultant].append(a)
    rows: dict[str | None, list[Capacity]] = defaultdict(list)
    for c in sorted(supply, key=lambda c: (c.consultant or "", c.role)):
        rows[c.consultant].append(c)
    pool: dict[str, Decimal] = defaultdict(Decimal)
    for c in rows.get(None, []):
        pool[c.role] += c.available_hours
    groups: list[tuple[list[Assignment], Decimal]] = []
    for consultant in sorted(set(named) | {k for k in rows if k is not None}):
        left = sum((a.planned_hours for a in named.get(consultant, [])), ZERO)
        for row in rows.get(consultant, []):
            used = min(left, row.available_hours)
            left -= used
            pool[row.role] += row.available_hours - used
        if left > 0:
            groups.append((named[consultant], left))
    for role in sorted(placeholders):
        needed = sum((a.planned_hours for a in placeholders[role]), ZERO)
        gap = needed - min(needed, pool[role])
        if gap > 0:
            groups.append((placeholders[role], gap))
    return groups


def _share(
    group: Sequence[Assignment],
    unstaffed: Decimal,
    month: int,
    contracts: Mapping[str, ContractForecastInput],
    tm_revenue: Mapping[str, Decimal],
    cells: dict[RiskKey, RiskCellDraft],
) -> None:
    """Share the group's unstaffed hours over its assignments, and value them."""
    total = sum((a.planned_hours for a in group), ZERO)
    for a in sorted(group, key=lambda a: a.id):
        c = contracts[a.contract_id]
        cell = cells[(c.legal_entity, c.service_line, c.currency, month)]
        hours = (unstaffed * a.planned_hours / total).quantize(HOURS, ROUND_HALF_UP)
        value = (hours * a.bill_rate.amount).quantize(quantum(c.currency), ROUND_HALF_UP)
        if c.billing_model is BillingModel.TIME_AND_MATERIALS:
            value = min(value, tm_revenue.get(a.id, ZERO))
        cell.unstaffed += hours
        if value:
            cell.lineage.append((a.id, c.id, value))
