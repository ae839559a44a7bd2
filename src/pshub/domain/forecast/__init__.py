"""Revenue forecast: actuals, backlog by billing model, weighted pipeline, capacity risk.

Pure (no I/O, no clock): ``forecast(inputs, as_of_month, horizon_months)`` returns
:class:`ForecastSnapshotData` whose every cell carries the lineage that sums to it;
:func:`take_snapshot` makes it an immutable, content-addressed snapshot; :func:`diff`
explains what moved between two snapshots; :func:`backtest` measures past accuracy
(MAPE and bias per horizon). Method and worked example: ``docs/forecast.md``.
"""
