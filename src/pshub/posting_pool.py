"""Posting processes: a billing run's projects planned, posted and recorded on other cores.

One Python process bills on one core at a time (the interpreter lock), and planning, posting
and recording a month-end run is CPU work. With ``posting_processes`` > 0 the hub starts that
many worker processes at launch; the run's ``bill`` step (still a DBOS step of the hub, so its
checkpoints, retries and waits are unchanged) hands its project to a worker and returns the
worker's totals. Decision 0012.

Each worker builds what :func:`pshub.flows.billing_post.bill_project` needs and nothing more:
the database (no migration: the hub migrated it), the policy, and the ERP billing port from a
picklable factory. The ERP account's concurrency budget is shared with the hub through
process-shared semaphores (:func:`pshub.connectors.netsuite.budget.share_budgets`), so the
hub and its workers together never exceed the vendor's limit. A worker exits within
``PARENT_CHECK_SECONDS`` of the hub's death: a killed hub leaves no worker writing behind it,
and the restarted hub re-runs the step, which re-plans safely (decision 0010).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

from pshub.flows.ports import ErpBillingPort
from pshub.settings import Settings

log = logging.getLogger("pshub.posting_pool")
PortFactory = Callable[[], ErpBillingPort]
PARENT_CHECK_SECONDS = 0.2


class PostingPool:
    """``processes`` worker processes billing one project at a time each."""

    def __init__(self, settings: Settings, port_factory: PortFactory, processes: int) -> None:
        from pshub.connectors.netsuite.budget import share_budgets

        if processes < 1:
            raise ValueError("posting_processes: at least 1 for a pool")
        self.processes = processes
        self._context = multiprocessing.get_context("spawn")  # no fork of a threaded hub
        self._args = (settings, port_factory, share_budgets(self._context.BoundedSemaphore))
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        """The workers, started now (their start-up is paid at launch, not by a run)."""
        pool = ProcessPoolExecutor(
            self.processes, mp_context=self._context, initializer=_init, initargs=self._args
        )
        for started in [pool.submit(os.getpid) for _ in range(self.processes)]:
            started.result()
        return pool

    def pids(self) -> list[int]:
        """The posting processes' ids (operations: which processes bill)."""
        return sorted(self._pool._processes or {})  # the executor keeps no public list

    def bill(self, project_id: str, as_of: datetime, run_id: str) -> dict[str, int]:
        """Bill one project in a worker; a worker that died is replaced and the project
        billed again (re-planning is safe: the ERP upserts by external id, the ledger
        decides again in its writing transaction)."""
        for attempt in (1, 2):
            pool = self._pool
            try:
                return pool.submit(_bill, project_id, as_of, run_id).result()
            except BrokenProcessPool:
                if attempt == 2:
                    raise
                log.warning("a posting process died; starting new ones")
                with self._lock:
                    if self._pool is pool:
                        pool.shutdown(wait=False, cancel_futures=True)
                        self._pool = self._start()
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# --- in the worker -----------------------------------------------------------------------------

_WORKER: Any = None


def _init(settings: Settings, port_factory: PortFactory, shared: dict[str, Any]) -> None:
    global _WORKER
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the hub decides when its workers stop
    from pshub import bootstrap
    from pshub.connectors.netsuite.budget import adopt_shared
    from pshub.store.db import Database

    adopt_shared(shared)
    bootstrap.apply_switch_interval(settings)
    port = port_factory()
    db = Database(settings.resolved_database_url(), migrate=False)
    c = bootstrap.Container(
        settings=settings,
        db=db,
        crm=_ABSENT,
        psa=_ABSENT,
        erp=port,  # type: ignore[arg-type]
    )
    c.extras["erp_billing"] = port
    bootstrap.set_container(c)
    _WORKER = c
    gc.freeze()  # the start-up heap is never garbage: keep collections off it


def _bill(project_id: str, as_of: datetime, run_id: str) -> dict[str, int]:
    from pshub.flows import billing_plan, billing_post
    from pshub.flows.durable import step_retry

    c = _WORKER
    with billing_plan.quiet_gc():
        return billing_post.bill_project(c, c.erp_billing, project_id, as_of, run_id, step_retry())


def _die_with_parent() -> None:
    """Exit at once when the hub dies (the worker is re-parented): a killed hub leaves no
    worker writing behind it; what the worker had not committed rolls back."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="pshub-posting-watch", daemon=True).start()


class _Absent:
    """The CRM and PSA, which a posting process never calls."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a posting process has no CRM or PSA connector ({name})")


_ABSENT = _Absent()
