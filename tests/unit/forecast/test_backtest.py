"""Backtest numbers derived by hand.

Three runs (GBP, one entity and service line); F = backlog + pipeline, A = recognised:

| made (as of) | Jan F | Feb F | Mar F |
| 2025-01      | 100   | 200   | 300   |
| 2025-02      |       | 180   | 330   |
| 2025-03      |       |       | 290   |
| actual A     | 125   | 160   | 300   |

Horizon 1 (Jan 100/125, Feb 180/160, Mar 290/300):
  MAPE = 100 x (25/125 + 20/160 + 10/300) / 3 = 100 x (0.2 + 0.125 + 0.0333...) / 3 = 11.94
  bias = 100 x (-25 + 20 - 10) / (125 + 160 + 300) = -1500 / 585 = -2.56
Horizon 2 (Feb 200/160, Mar 330/300): MAPE = 100 x (0.25 + 0.1) / 2 = 17.50;
  bias = 100 x (40 + 30) / 460 = 15.22
Horizon 3 (Mar 300/300): MAPE 0.00, bias 0.00.
"""

from __future__ import annotations

from decimal import Decimal

from pshub.domain.forecast import (
    Category,
    ForecastCell,
    ForecastSnapshot,
    ForecastSnapshotData,
    LineageEntry,
    SourceKind,
    add_months,
    backtest,
    format_backtest,
    take_snapshot,
)
from tests.unit.forecast.example import actual, gbp


def run(as_of: str, amounts: dict[str, str], line: str = "ADVISORY") -> ForecastSnapshot:
    cells = tuple(
        ForecastCell(
            legal_entity="UK",
            service_line=line,
            month=month,
            category=Category.BACKLOG,
            amount=gbp(amount),
            lineage=(LineageEntry(SourceKind.CONTRACT, "C1", gbp(amount)),),
        )
        for month, amount in amounts.items()
    )
    data = ForecastSnapshotData(
        as_of_month=as_of,
        horizon_months=3,
        months=tuple(add_months(as_of, k) for k in range(3)),
        cells=cells,
        at_risk=(),
        contracts=(),
        milestones=(),
        opportunities=(),
        findings=(),
    )
    return take_snapshot(data)


RUNS = [
    run("2025-01", {"2025-01": "100", "2025-02": "200", "2025-03": "300"}),
    run("2025-02", {"2025-02": "180", "2025-03": "330", "2025-04": "999"}),
    run("2025-03", {"2025-03": "290", "2025-04": "999"}),
]
ACTUALS = [
    actual("a1", "ADVISORY", "2025-01", "125"),
    actual("a2", "ADVISORY", "2025-02", "100"),
    actual("a3", "ADVISORY", "2025-02", "60"),
    actual("a4", "ADVISORY", "2025-03", "300"),
]


def test_mape_and_bias_per_horizon_match_the_hand_derived_figures() -> None:
    result = backtest(RUNS, ACTUALS)
    got = [(h.horizon, h.points, h.mape, h.bias) for h in result.by_horizon]
    assert got == [
        (1, 3, Decimal("11.94"), Decimal("-2.56")),
        (2, 2, Decimal("17.50"), Decimal("15.22")),
        (3, 1, Decimal("0.00"), Decimal("0.00")),
    ]


def test_months_after_the_last_closed_month_are_not_scored() -> None:
    result = backtest(RUNS, ACTUALS)
    assert max(p.month for p in result.points) == "2025-03"
    capped = backtest(RUNS, ACTUALS, closed_through="2025-01")
    assert [(h.horizon, h.points) for h in capped.by_horizon] == [(1, 1)]


def test_zero_actuals_are_left_out_of_mape_but_count_in_bias() -> None:
    runs = [run("2025-01", {"2025-01": "100"}), run("2025-01", {"2025-01": "50"}, "CLOUD")]
    runs[1] = runs[1].model_copy(update={"version": 2})  # the later run of the same month
    merged = ForecastSnapshot(
        id="fcs_x",
        version=3,
        previous_id=None,
        data=runs[0].data.model_copy(update={"cells": runs[0].data.cells + runs[1].data.cells}),
    )
    result = backtest(
        [merged], [actual("a", "ADVISORY", "2025-01", "80")], by_entity_and_service_line=True
    )
    (h1,) = result.by_horizon
    # ADVISORY: F 100, A 80 -> APE 25%; CLOUD: F 50, A 0 -> no APE, counted as zero actual
    assert (h1.points, h1.zero_actual_points, h1.zero_actual_forecast) == (2, 1, gbp("50"))
    assert h1.mape == Decimal("25.00")
    # bias = 100 x ((100 - 80) + (50 - 0)) / 80 = 87.50
    assert h1.bias == Decimal("87.50")


def test_all_zero_actuals_give_no_mape_and_no_bias() -> None:
    result = backtest(RUNS[:1], [], closed_through="2025-01")
    (h1,) = result.by_horizon
    assert (h1.mape, h1.bias, h1.zero_actual_points) == (None, None, 1)


def test_the_latest_version_of_a_month_is_the_forecast_made_then() -> None:
    rerun = run("2025-03", {"2025-03": "300"}).model_copy(update={"version": 9})
    result = backtest([*RUNS, rerun], ACTUALS)
    assert [p.forecast for p in result.points if p.horizon == 1][-1] == gbp("300")


def test_the_table_prints_one_line_per_horizon() -> None:
    lines = format_backtest(backtest(RUNS, ACTUALS))
    assert len(lines) == 4
    assert lines[1].split() == ["1", "GBP", "3", "11.94", "-2.56", "0"]
