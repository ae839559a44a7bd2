"""A provisioned milestone deal over real HTTP, ready for change orders.

The deal (UK entity, GBP): "Design sign-off" 40,000 (due 2027-01-15) and "Go-live" 80,000
(due 2027-06-15), 120,000 in all, ending 2027-06-30. Change orders are approved in the
Salesforce sandbox, which relays them to the hub as signed change events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pshub.domain.contracts import Contract
from pshub.flows import change_intake
from pshub.stack import Stack, start_stack
from pshub.store import contract_tables as store
from pshub.store import repos
from tests.integration.conftest import hub_settings_for
from tests.integration.test_deal_to_project_http import close_won, records, wait_for_flow

T = TypeVar("T")


@dataclass
class Deal:
    stack: Stack
    opportunity: str  # Salesforce id
    workspace: str  # Kantata workspace id
    contract_id: str
    project_id: str

    def records(self, vendor: str, collection: str) -> list[dict[str, Any]]:
        return records(self.stack, vendor, collection)

    def change(self, key: str) -> store.ChangeOrderRow | None:
        with self.stack.container.db.session() as s:
            row = store.change_row(s, key)
            if row is not None:
                s.expunge(row)
            return row

    def changes(self) -> list[store.ChangeOrderRow]:
        with self.stack.container.db.session() as s:
            rows = store.changes_in(
                s, ("queued", "running", "waiting", "applied", "rejected", "failed", "unchanged")
            )
            for row in rows:
                s.expunge(row)
            return rows

    def settle(self, key: str, wanted: str, timeout: float = 60) -> store.ChangeOrderRow:
        """Wait until the change order reaches ``wanted`` (dispatching as the serve loop does)."""

        def reached() -> store.ChangeOrderRow | None:
            change_intake.dispatch(self.stack.container)
            row = self.change(key)
            return row if row is not None and row.status == wanted else None

        return wait_until(reached, f"{key} {wanted}", timeout)

    def versions(self) -> list[store.ContractVersion]:
        with self.stack.container.db.session() as s:
            return store.contract_versions(s, self.contract_id)


def wait_until(check: Callable[[], T | None], what: str, timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def deal(db_url: str, tmp_path: Path) -> Iterator[Deal]:
    settings = hub_settings_for(
        db_url, tmp_path / "hub", step_retry_seconds=1, billing_interval_seconds=0
    )
    stack = start_stack(settings)
    stack.container.extras[change_intake.POLL_KEY] = 0.2  # re-read a pending ERP order often
    try:
        opp = close_won(stack)
        flow = wait_for_flow(stack, opp, "completed")
        result = flow["runs"][0]["result"]
        with stack.container.db.session() as s:
            contract = Contract.model_validate(
                repos.get_record(s, "contract", result["contract_id"])
            )
        yield Deal(
            stack=stack,
            opportunity=opp,
            workspace=result["system_ids"]["psa_project_id"],
            contract_id=contract.id,
            project_id=result["project_id"],
        )
    finally:
        stack.stop()
