"""A provisioned milestone deal over real HTTP: Salesforce -> hub -> Kantata + NetSuite.

The deal (UK entity, GBP, customer in GB: VAT 20 %) has two milestones: "Design sign-off"
(40,000, due 2027-01-15) and "Go-live" (80,000, due 2027-06-15). Tests complete them in the
Kantata sandbox, poll the feed as ``pshub serve`` does, and read every system back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pshub.domain.contracts import Contract
from pshub.domain.invoicing import milestone_order
from pshub.domain.money import Money
from pshub.domain.projects import Project
from pshub.flows import psa_feed
from pshub.stack import Stack, start_stack
from pshub.store import invoicing as store
from pshub.store import repos
from tests.integration.conftest import hub_settings_for
from tests.integration.test_deal_to_project_http import close_won, records, wait_for_flow

T = TypeVar("T")


@dataclass(frozen=True)
class Ms:
    id: str  # canonical
    story: str  # Kantata story id
    name: str
    amount: Money


@dataclass
class Deal:
    stack: Stack
    opportunity: str  # Salesforce id
    workspace: str  # Kantata workspace id
    project_id: str
    customer: str  # NetSuite customer internal id
    milestones: list[Ms]  # in due-date order

    def complete(self, ms: Ms) -> None:
        self.stack.container.psa.complete_milestone(ms.story)  # type: ignore[attr-defined]

    def poll(self) -> psa_feed.PollResult:
        return psa_feed.poll(self.stack.container)

    def status(self, ms: Ms) -> str | None:
        with self.stack.container.db.session() as s:
            row = store.milestone_row(s, ms.id)
            return None if row is None else row.status

    def settle(self, ms: Ms, wanted: str, timeout: float = 45) -> None:
        """Wait until the milestone's billing reaches ``wanted``."""
        wait_until(lambda: self.status(ms) == wanted, f"{ms.name} {wanted}", timeout)

    def records(self, vendor: str, collection: str) -> list[dict[str, Any]]:
        return records(self.stack, vendor, collection)

    def opportunity_fields(self, *names: str) -> dict[str, Any]:
        crm: Any = self.stack.container.crm
        rows = crm.query(
            f"SELECT {', '.join(names)} FROM Opportunity WHERE Id = '{self.opportunity}'"
        )
        return dict(rows[0])

    def invoice_refs(self) -> list[dict[str, Any]]:
        """The invoice references on Kantata billing milestones."""
        refs = self.records("kantata", "external_references")
        return [r for r in refs if r["service_name"] == "pshub-invoice"]


def wait_until(check: Callable[[], T], what: str, timeout: float = 45) -> T:
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
    try:
        opp = close_won(stack)
        flow = wait_for_flow(stack, opp, "completed")
        result = flow["runs"][0]["result"]
        with stack.container.db.session() as s:
            project = Project.model_validate(repos.get_record(s, "project", result["project_id"]))
            contract = Contract.model_validate(repos.get_record(s, "contract", project.contract_id))
            customer = repos.system_ids(s, "account", contract.account_id)["netsuite"]
            milestones = [
                Ms(m.id, repos.system_ids(s, "milestone", m.id)["kantata"], m.name, m.amount)
                for m in milestone_order(project)
            ]
        yield Deal(
            stack=stack,
            opportunity=opp,
            workspace=result["system_ids"]["psa_project_id"],
            project_id=project.id,
            customer=customer,
            milestones=milestones,
        )
    finally:
        stack.stop()
