"""Background work of ``pshub serve``: poll the PSA feed and the ERP's payments and credit
memos, dispatch queued change orders, and start billing runs, on a timer.

Each tick reads the change feed (idempotent, cursor saved with the data) and, when work is
waiting, enqueues a billing run (the queue runs one at a time, so overlapping ticks are safe).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from pshub.bootstrap import Container
from pshub.connectors.errors import ConnectorError
from pshub.flows import change_intake, credit_notes, payments, psa_feed, time_to_bill
from pshub.store import billing as billing_repo
from pshub.store import repos

log = logging.getLogger("pshub.worker")


class BillingLoop:
    def __init__(self, c: Container, interval: float) -> None:
        self.c = c
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pshub-billing", daemon=True)

    def start(self) -> BillingLoop:
        if self.interval > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def tick(self) -> str | None:
        """One poll of the PSA feed (time, expenses, milestone completions, budget changes),
        one of the ERP's payments and credit memos, the next queued change order of each
        contract, and, if billing work waits, one billing run; returns the run's workflow id.
        (T&M invoicing runs and month-end closes are started by finance: ``pshub close``.)"""
        polled = psa_feed.poll(self.c)
        payments.poll(self.c)
        credit_notes.poll(self.c)
        change_intake.dispatch(self.c)
        with self.c.db.session() as s:
            waiting = billing_repo.count_items(s).get("pending", 0)
        if not waiting and not polled.work_items:
            return None
        now = datetime.now(UTC)
        return time_to_bill.start(
            time_to_bill.BillingRunInput(
                run_id=f"auto-{now:%Y%m%dT%H%M%S%f}",
                as_of=now,
                patience_seconds=self.c.settings.outage_patience_seconds,
            )
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except ConnectorError as exc:  # the PSA is down: try again next tick
                with self.c.db.session() as s:
                    repos.audit(s, action="psa.poll.failed", error=str(exc))
            except Exception:  # keep the loop alive; the error is logged with its trace
                log.exception("billing tick failed")
