"""Prometheus metrics: counters updated in-process, plus gauges read from the database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

REGISTRY = CollectorRegistry()

WEBHOOKS = Counter(
    "pshub_webhooks_total",
    "Webhook deliveries by source and outcome",
    ["source", "outcome"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "pshub_http_request_seconds", "Hub API latency by route", ["route", "method"], registry=REGISTRY
)


class StoreCollector(Collector):
    """Flow runs by status and open exceptions by reason, read at scrape time."""

    def __init__(self, db_getter: Any) -> None:
        self._db = db_getter

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from pshub.store import repos
        from pshub.store.tables import BusinessException

        db = self._db()
        if db is None:
            return
        runs = GaugeMetricFamily(
            "pshub_flow_runs", "Flow runs by flow and status", labels=["flow", "status"]
        )
        exc = GaugeMetricFamily(
            "pshub_exceptions_open",
            "Open business exceptions by reason",
            labels=["flow", "kind", "reason"],
        )
        with db.session() as s:
            for flow, statuses in repos.run_counts(s).items():
                for status, n in statuses.items():
                    runs.add_metric([flow, status], n)
            rows = s.execute(
                select(
                    BusinessException.flow,
                    BusinessException.kind,
                    BusinessException.reason_code,
                    func.count(),
                )
                .where(BusinessException.status != "resolved")
                .group_by(
                    BusinessException.flow, BusinessException.kind, BusinessException.reason_code
                )
            ).all()
            for flow, kind, reason, n in rows:
                exc.add_metric([flow, kind, reason], int(n))
        yield runs
        yield exc


_collector: StoreCollector | None = None


def install_store_collector(db_getter: Any) -> None:
    """Register the store collector once per process; a new app rebinds it to its database."""
    global _collector
    if _collector is None:
        _collector = StoreCollector(db_getter)
        REGISTRY.register(_collector)
    else:
        _collector._db = db_getter
