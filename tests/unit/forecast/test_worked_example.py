"""The worked example of docs/forecast.md, every number derived by hand in the tables below.

Contracts (UK, GBP), as of 2025-03, horizon March-May:
  C1 T&M ADVISORY: value 50,000, recognised 38,000 -> cap 12,000.
     A1 Mar alice 100 h x 60 = 6,000; A2 Apr alice 80 h x 60 = 4,800;
     A3 May placeholder 50 h x 60 = 3,000 -> capped at 12,000 - 10,800 = 1,200.
  C2 fixed fee ADVISORY: value 30,000, recognised 10,000 (M0). M1 8,000 due Feb (overdue
     -> March); M2 12,000 due May.
  C3 percent complete CLOUD: value 100,000, recognised 24,000 -> 76,000 over the plan's
     future increments Mar 15, Apr 30, May 30 (of 75): 15,200 / 30,400 / 30,400.
  C4 retainer CLOUD: 10,000 per quarter from January = 3,333.34 / 3,333.33 / 3,333.33 per
     month (largest remainder); March is the quarter's 3rd month, April the 1st, May the 2nd.
Pipeline: O1 Negotiation 75% x 20,000 = 15,000 over 4 months from April = 3,750 a month;
  O2 Proposal 50% x 1,000 = 500.00 over 3 months from January (passed -> March):
  166.67 / 166.67 / 166.66; O3's stage "Discovery" has no probability: a finding.
"""

from __future__ import annotations

from decimal import Decimal

from pshub.domain.forecast import Category, forecast
from tests.unit.forecast.example import worked_example

CELLS = """
| service line | month   | category | amount    | lineage                               |
| ADVISORY     | 2025-01 | actual   | 14000.00  | ACT-1 14000.00                        |
| ADVISORY     | 2025-02 | actual   | 18000.00  | ACT-2 18000.00                        |
| ADVISORY     | 2025-03 | backlog  | 14000.00  | A1 6000.00, M1 8000.00                |
| ADVISORY     | 2025-04 | backlog  | 4800.00   | A2 4800.00                            |
| ADVISORY     | 2025-04 | pipeline | 3750.00   | O1 3750.00                            |
| ADVISORY     | 2025-05 | backlog  | 13200.00  | A3 1200.00, M2 12000.00               |
| ADVISORY     | 2025-05 | pipeline | 3750.00   | O1 3750.00                            |
| CLOUD        | 2025-02 | actual   | 12000.00  | ACT-3 12000.00                        |
| CLOUD        | 2025-03 | backlog  | 18533.33  | C3 15200.00, C4 3333.33               |
| CLOUD        | 2025-03 | pipeline | 166.67    | O2 166.67                             |
| CLOUD        | 2025-04 | backlog  | 33733.34  | C3 30400.00, C4 3333.34               |
| CLOUD        | 2025-04 | pipeline | 166.67    | O2 166.67                             |
| CLOUD        | 2025-05 | backlog  | 33733.33  | C3 30400.00, C4 3333.33               |
| CLOUD        | 2025-05 | pipeline | 166.66    | O2 166.66                             |
"""

# Capacity: Apr alice has 60 h for 80 planned -> 20 h x 60 = 1,200 at risk (A2).
# May: alice's 10 spare hours join the consultant pool of 30 -> 40 h for A3's 50 -> 10 h
# unstaffed x 60 = 600 at risk (below A3's forecast revenue of 1,200, so not capped).
AT_RISK = """
| service line | month   | needed | staffed | unstaffed | at risk | lineage     |
| ADVISORY     | 2025-03 | 100    | 100     | 0         | 0       |             |
| ADVISORY     | 2025-04 | 80     | 60      | 20        | 1200.00 | A2 1200.00  |
| ADVISORY     | 2025-05 | 50     | 40      | 10        | 600.00  | A3 600.00   |
"""


def table(text: str) -> list[list[str]]:
    rows = [line.strip().strip("|").split("|") for line in text.strip().splitlines()]
    return [[cell.strip() for cell in row] for row in rows[1:]]


def lineage(text: str) -> list[tuple[str, Decimal]]:
    pairs = [item.split() for item in text.split(",") if item.strip()]
    return [(sid, Decimal(amount)) for sid, amount in pairs]


def test_every_cell_of_the_worked_example_matches_the_hand_derived_table() -> None:
    data = forecast(worked_example(), "2025-03", 3)
    got = [
        [
            c.service_line,
            c.month,
            c.category.value,
            c.amount.amount,
            [(e.source_id, e.amount.amount) for e in c.lineage],
        ]
        for c in data.cells
    ]
    want = [[r[0], r[1], r[2], Decimal(r[3]), lineage(r[4])] for r in table(CELLS)]
    assert got == want
    assert {c.legal_entity for c in data.cells} == {"UK"}
    assert {c.amount.currency for c in data.cells} == {"GBP"}
    assert data.months == ("2025-03", "2025-04", "2025-05")


def test_revenue_at_risk_matches_the_hand_derived_capacity_table() -> None:
    data = forecast(worked_example(), "2025-03", 3)
    got = [
        [
            r.service_line,
            r.month,
            r.needed_hours,
            r.staffed_hours,
            r.unstaffed_hours,
            r.amount.amount,
            [(e.source_id, e.amount.amount) for e in r.lineage],
        ]
        for r in data.at_risk
    ]
    want = [
        [r[0], r[1], Decimal(r[2]), Decimal(r[3]), Decimal(r[4]), Decimal(r[5]), lineage(r[6])]
        for r in table(AT_RISK)
    ]
    assert got == want


def test_the_unknown_stage_is_a_finding_holding_back_its_amount() -> None:
    data = forecast(worked_example(), "2025-03", 3)
    assert [(f.code, f.record, str(f.amount)) for f in data.findings] == [
        ("unknown_stage", "O3", "GBP 5,000.00")
    ]


def test_lineage_points_at_the_contract_behind_milestones_and_assignments() -> None:
    data = forecast(worked_example(), "2025-03", 3)
    refs = {e.source_id: e.refs for c in data.cells for e in c.lineage}
    assert refs["A1"] == ("C1",)
    assert refs["M1"] == ("C2",)
    assert refs["ACT-1"] == ("jnl-ACT-1",)


def test_amount_reads_a_missing_cell_as_zero_and_revenue_by_month_adds_categories() -> None:
    data = forecast(worked_example(), "2025-03", 3)
    assert data.amount("UK", "CLOUD", "2025-01", Category.ACTUAL, "GBP").is_zero()
    by_month = data.revenue_by_month("GBP")
    assert by_month["2025-04"].amount == Decimal("4800.00") + Decimal("3750.00") + Decimal(
        "33733.34"
    ) + Decimal("166.67")
