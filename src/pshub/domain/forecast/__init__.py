"""Revenue forecast: actuals, backlog by billing model, weighted pipeline, capacity risk.

Pure (no I/O, no clock): ``forecast(inputs, as_of_month, horizon_months)`` returns
:class:`ForecastSnapshotData` whose every cell carries the lineage that sums to it;
:func:`take_snapshot` makes it an immutable, content-addressed snapshot; :func:`diff`
explains what moved between two snapshots; :func:`backtest` measures past accuracy
(MAPE and bias per horizon). Method and worked example: ``docs/forecast.md``.
"""

from pshub.domain.forecast.backtest import (
    BacktestPoint,
    BacktestResult,
    HorizonAccuracy,
    backtest,
    format_backtest,
)
from pshub.domain.forecast.inputs import (
    Actual,
    Assignment,
    Capacity,
    ContractForecastInput,
    ForecastInputs,
    MilestonePlan,
    OpenOpportunity,
    PercentCompletePoint,
    StageProbabilities,
)
from pshub.domain.forecast.model import forecast
from pshub.domain.forecast.months import Month, MonthError, add_months, month_index, month_label
from pshub.domain.forecast.results import (
    AtRiskCell,
    Category,
    CellKey,
    ContractDriver,
    ForecastCell,
    ForecastSnapshotData,
    LineageEntry,
    MilestoneDriver,
    OpportunityDriver,
    SourceKind,
)
from pshub.domain.forecast.snapshots import (
    Cause,
    ForecastSnapshot,
    Movement,
    content_id,
    diff,
    take_snapshot,
    totals_by_cause,
)

__all__ = [
    "Actual",
    "Assignment",
    "AtRiskCell",
    "BacktestPoint",
    "BacktestResult",
    "Capacity",
    "Category",
    "Cause",
    "CellKey",
    "ContractDriver",
    "ContractForecastInput",
    "ForecastCell",
    "ForecastInputs",
    "ForecastSnapshot",
    "ForecastSnapshotData",
    "HorizonAccuracy",
    "LineageEntry",
    "MilestoneDriver",
    "MilestonePlan",
    "Month",
    "MonthError",
    "Movement",
    "OpenOpportunity",
    "OpportunityDriver",
    "PercentCompletePoint",
    "SourceKind",
    "StageProbabilities",
    "add_months",
    "backtest",
    "content_id",
    "diff",
    "forecast",
    "format_backtest",
    "month_index",
    "month_label",
    "take_snapshot",
    "totals_by_cause",
]
