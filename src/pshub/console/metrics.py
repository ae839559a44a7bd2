"""Metrics read from the store at scrape time: finished flow runs and their durations by
flow (from ``flow_runs``), and DBOS queue depth. Every worker sharing the database reports
the same numbers, and new flows appear without code changes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select

from pshub.store.tables import FlowRun

FLOW_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))


class FlowRunMetrics(Collector):
    """Finished runs per flow and status, and run duration histograms, from ``flow_runs``.

    Reads only the rows finished since the last scrape (indexed on ``finished_at``), so a
    scrape stays cheap however many runs the table holds; counting starts at process start.
    """

    def __init__(self, db_getter: Callable[[], Any], since: datetime) -> None:
        self._db = db_getter
        self._cursor = since
        self._recent: set[str] = set()
        self._lock = threading.Lock()
        self.counts: dict[tuple[str, str], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}

    def collect(self) -> Iterator[Any]:
        with self._lock:
            self._ingest()
            runs = CounterMetricFamily(
                "pshub_flow_runs_finished",
                "Flow runs finished since start, by flow and status",
                labels=["flow", "status"],
            )
            for (flow, status), n in sorted(self.counts.items()):
                runs.add_metric([flow, status], n)
            hist = HistogramMetricFamily(
                "pshub_flow_run_seconds", "Flow run duration by flow", labels=["flow"]
            )
            for flow, counts in sorted(self.buckets.items()):
                cumulative = [(_le(b), sum(counts[: i + 1])) for i, b in enumerate(FLOW_BUCKETS)]
                hist.add_metric([flow], cumulative, sum_value=self.sums[flow])
        yield runs
        yield hist
        yield from _queue_depth()

    def _ingest(self) -> None:
        db = self._db()
        if db is None:
            return
        # Rows commit a little after their finished_at: look back a few seconds, skip repeats.
        since = self._cursor - timedelta(seconds=10)
        columns = (FlowRun.workflow_id, FlowRun.flow, FlowRun.status, FlowRun.started_at)
        query = (
            select(*columns, FlowRun.finished_at)
            .where(FlowRun.finished_at >= since)
            .order_by(FlowRun.finished_at)
            .limit(50_000)
        )
        with db.session() as s:
            rows = s.execute(query).all()
        fresh: set[str] = set()
        for wid, flow, status, started, finished in rows:
            fresh.add(wid)
            if wid in self._recent:
                continue
            self.counts[(flow, status)] = self.counts.get((flow, status), 0) + 1
            seconds = max(0.0, (finished - started).total_seconds())
            counts = self.buckets.setdefault(flow, [0] * len(FLOW_BUCKETS))
            counts[next(i for i, b in enumerate(FLOW_BUCKETS) if seconds <= b)] += 1
            self.sums[flow] = self.sums.get(flow, 0.0) + seconds
            self._cursor = max(self._cursor, finished)
        self._recent = fresh


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else str(bound)


def _queue_depth() -> Iterator[Any]:
    gauge = GaugeMetricFamily("pshub_queue_depth", "Workflows waiting in a queue", labels=["queue"])
    try:
        from dbos import DBOS

        waiting = DBOS.list_queued_workflows(
            status=["ENQUEUED"], load_input=False, load_output=False
        )
    except Exception:  # DBOS not launched here (e.g. an API-only process): no gauge values
        waiting = []
    depth: dict[str, int] = {}
    for wf in waiting:
        name = wf.queue_name or "unknown"
        depth[name] = depth.get(name, 0) + 1
    for name, n in sorted(depth.items()):
        gauge.add_metric([name], n)
    yield gauge
