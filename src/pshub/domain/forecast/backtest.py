"""Backtest: how good was the forecast made N months before each closed month?

Horizon ``h`` of a forecast for month ``t`` made by a snapshot with as-of month ``s`` is
``h = t - s + 1``: the snapshot's first open month is horizon 1, the next horizon 2.

A point is one (target month ``t``, horizon ``h``, currency ``c``) — or, with
``by_entity_and_service_line``, one (t, h, c, legal entity, service line) — with

- ``F``: the snapshot's forecast for ``t`` (backlog + pipeline cells; actuals never count),
- ``A``: the revenue recognised in ``t`` (sum of the actuals given).

For each horizon and currency, over its points:

- ``MAPE = 100 / n x sum(|F - A| / |A|)`` over the ``n`` points with ``A != 0``. Points
  with ``A = 0`` have no percentage error; they are left out of MAPE and reported as
  ``zero_actual_points`` with the forecast they carried (``zero_actual_forecast``).
  MAPE is None when every point has ``A = 0``.
- ``bias = 100 x sum(F - A) / sum(|A|)`` over all points (zero actuals included: forecast
  where nothing was recognised is over-forecast). Positive means the forecast ran high.
  None when ``sum(|A|) = 0``.

Both are Decimal percentages rounded half-up to two places. Only months up to
``closed_through`` count (default: the latest month with an actual); when several
snapshots share an as-of month, the one with the highest version is the forecast made then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict

from pshub.domain.forecast.inputs import Actual
from pshub.domain.forecast.months import Month, month_index
from pshub.domain.forecast.results import Category
from pshub.domain.forecast.snapshots import ForecastSnapshot
from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")
ZERO = Decimal(0)
HUNDRED = Decimal(100)
PERCENT = Decimal("0.01")

_Grain = tuple[str, str, str]  # currency, legal entity, service line ("" when not split)


class BacktestPoint(BaseModel):
    model_config = _FROZEN

    month: Month
    horizon: int
    snapshot_id: str
    legal_entity: str | None
    service_line: str | None
    forecast: Money
    actual: Money


class HorizonAccuracy(BaseModel):
    model_config = _FROZEN

    horizon: int
    currency: str
    points: int
    zero_actual_points: int
    zero_actual_forecast: Money
    mape: Decimal | None  # percent
    bias: Decimal | None  # percent; positive = forecast above actual


class BacktestResult(BaseModel):
    model_config = _FROZEN

    points: tuple[BacktestPoint, ...]
    by_horizon: tuple[HorizonAccuracy, ...]


def backtest(
    snapshots: Sequence[ForecastSnapshot],
    actuals: Sequence[Actual],
    *,
    closed_through: str | None = None,
    by_entity_and_service_line: bool = False,
) -> BacktestResult:
    """Forecast made N months before versus recognised revenue, per horizon and currency."""
    split = by_entity_and_service_line
    recognised: dict[tuple[int, _Grain], Decimal] = defaultdict(Decimal)
    for a in actuals:
        grain = _grain(a.amount.currency, a.legal_entity, a.service_line, split)
        recognised[(month_index(a.month), grain)] += a.amount.amount
    if closed_through is None and not recognised:
        return BacktestResult(points=(), by_horizon=())
    end = month_index(closed_through) if closed_through else max(m for m, _ in recognised)
    points = [p for s in _latest_per_as_of(snapshots) for p in _points(s, recognised, end, split)]
    return BacktestResult(points=tuple(points), by_horizon=_accuracy(points))


def format_backtest(result: BacktestResult) -> list[str]:
    """A plain-text table: one line per horizon and currency."""
    lines = [f"{'horizon':>7}  {'ccy':3}  {'points':>6}  {'MAPE %':>8}  {'bias %':>8}  zero-A"]
    for h in result.by_horizon:
        mape = "n/a" if h.mape is None else str(h.mape)
        bias = "n/a" if h.bias is None else str(h.bias)
        lines.append(
            f"{h.horizon:>7}  {h.currency:3}  {h.points:>6}  {mape:>8}  {bias:>8}  "
            f"{h.zero_actual_points}"
        )
    return lines


def _grain(currency: str, entity: str, line: str, split: bool) -> _Grain:
    return (currency, entity, line) if split else (currency, "", "")


def _latest_per_as_of(snapshots: Sequence[ForecastSnapshot]) -> list[ForecastSnapshot]:
    latest: dict[str, ForecastSnapshot] = {}
    for s in snapshots:
        held = latest.get(s.data.as_of_month)
        if held is None or s.version >= held.version:
            latest[s.data.as_of_month] = s
    return [latest[k] for k in sorted(latest)]


def _points(
    snapshot: ForecastSnapshot,
    recognised: dict[tuple[int, _Grain], Decimal],
    end: int,
    split: bool,
) -> list[BacktestPoint]:
    first = month_index(snapshot.data.as_of_month)
    forecast: dict[tuple[int, _Grain], Decimal] = defaultdict(Decimal)
    for cell in snapshot.data.cells:
        m = month_index(cell.month)
        if cell.category is not Category.ACTUAL and m <= end:
            grain = _grain(cell.amount.currency, cell.legal_entity, cell.service_line, split)
            forecast[(m, grain)] += cell.amount.amount
    targets = {month_index(t) for t in snapshot.data.months if month_index(t) <= end}
    keys = {k for k in forecast.keys() | recognised.keys() if k[0] in targets}
    return [_point(snapshot, m, g, forecast, recognised, first, split) for m, g in sorted(keys)]


def _point(
    snapshot: ForecastSnapshot,
    m: int,
    grain: _Grain,
    forecast: dict[tuple[int, _Grain], Decimal],
    recognised: dict[tuple[int, _Grain], Decimal],
    first: int,
    split: bool,
) -> BacktestPoint:
    currency, entity, line = grain
    return BacktestPoint(
        month=snapshot.data.months[m - first],
        horizon=m - first + 1,
        snapshot_id=snapshot.id,
        legal_entity=entity if split else None,
        service_line=line if split else None,
        forecast=Money.of(forecast.get((m, grain), ZERO), currency),
        actual=Money.of(recognised.get((m, grain), ZERO), currency),
    )


def _accuracy(points: Sequence[BacktestPoint]) -> tuple[HorizonAccuracy, ...]:
    groups: dict[tuple[int, str], list[BacktestPoint]] = defaultdict(list)
    for p in points:
        groups[(p.horizon, p.forecast.currency)].append(p)
    return tuple(_measure(h, c, groups[(h, c)]) for h, c in sorted(groups))


def _measure(horizon: int, currency: str, points: list[BacktestPoint]) -> HorizonAccuracy:
    """MAPE and bias of one horizon and currency (definitions in the module docstring)."""
    nonzero = [p for p in points if p.actual.amount != 0]
    zero = [p for p in points if p.actual.amount == 0]
    ape = [abs(p.forecast.amount - p.actual.amount) / abs(p.actual.amount) for p in nonzero]
    mape = HUNDRED * sum(ape, ZERO) / len(ape) if ape else None
    scale = sum((abs(p.actual.amount) for p in points), ZERO)
    error = sum((p.forecast.amount - p.actual.amount for p in points), ZERO)
    bias = HUNDRED * error / scale if scale else None
    return HorizonAccuracy(
        horizon=horizon,
        currency=currency,
        points=len(points),
        zero_actual_points=len(zero),
        zero_actual_forecast=Money.of(sum((p.forecast.amount for p in zero), ZERO), currency),
        mape=None if mape is None else mape.quantize(PERCENT, ROUND_HALF_UP),
        bias=None if bias is None else bias.quantize(PERCENT, ROUND_HALF_UP),
    )
