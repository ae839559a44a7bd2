"""A provisioned T&M deal over real HTTP with approved, posted time: the world of the T&M
invoicing and credit-note tests (Salesforce -> hub -> Kantata + NetSuite)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from pshub.domain.ledger import LineState
from pshub.flows import psa_feed, time_to_bill, tm_invoicing
from pshub.flows.durable import result_of
from pshub.policy.loader import DEFAULT_POLICY_DIR
from pshub.stack import Stack, start_stack
from pshub.store import tm_ledger
from pshub.store.invoicing_tables import InvoiceRow
from tests.integration.conftest import hub_settings_for
from tests.integration.test_deal_to_project_http import close_won, records, wait_for_flow


@dataclass
class TmDeal:
    stack: Stack
    workspace: str  # Kantata workspace id = the PSA project id of billing lines
    policy_dir: Path

    @property
    def c(self) -> Any:
        return self.stack.container

    def log_and_approve(self, n: int, *, prefix: str, days: list[date] | None = None) -> list[str]:
        psa: Any = self.c.psa
        ids = [
            psa.create_time_entry(
                self.workspace,
                days[i % len(days)] if days else date(2026, 10, 1 + i % 28),
                60 * (1 + i % 4),
                key=f"{prefix}{i}",
                user_id=("2002", "2003")[i % 2],
                billable=True,
            )
            for i in range(n)
        ]
        psa.approve(ids)
        return [f"time:{i}" for i in ids]

    def bill(self, run_id: str) -> dict[str, Any]:
        psa_feed.poll(self.c)
        inp = time_to_bill.BillingRunInput(run_id=run_id, as_of=datetime.now(UTC))
        return dict(result_of(time_to_bill.start(inp)))

    def invoice(self, run: str = "") -> dict[str, Any]:
        inp = tm_invoicing.RunTmInvoicingInput(
            project_id=self.workspace,
            period=PERIOD,
            invoice_date=datetime.now(UTC).date(),
            run=run,
            patience_seconds=60,
        )
        return dict(result_of(tm_invoicing.start(inp)))

    def erp_invoices(self) -> list[dict[str, Any]]:
        return records(self.stack, "netsuite", "invoice")

    def hub_invoices(self) -> list[InvoiceRow]:
        from sqlalchemy import select

        with self.c.db.session() as s:
            return list(s.scalars(select(InvoiceRow).where(InvoiceRow.source == "tm")))

    def states(self, keys: list[str]) -> dict[str, tuple[LineState, int, int]]:
        with self.c.db.session() as s:
            books = tm_ledger.load(s, keys)
        return {k: (b.line.state, b.invoices, b.credits) for k, b in books.items()}

    def set_policy(self, name: str, value: str) -> None:
        """Change one ``tm_invoicing`` setting of the hub's invoicing.yaml."""
        path = self.policy_dir / "invoicing.yaml"
        data = yaml.safe_load(path.read_text())
        data["tm_invoicing"][name] = value
        path.write_text(yaml.safe_dump(data))


PERIOD = "2030-12"  # every line billed up to then: what is posted now


def erp_lines(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return list(invoice["item"]["items"])


def total(invoice: dict[str, Any]) -> Decimal:
    return Decimal(str(invoice["total"]))


@pytest.fixture
def tm_deal(db_url: str, tmp_path: Path) -> Iterator[TmDeal]:
    policy = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, policy)
    settings = hub_settings_for(
        db_url,
        tmp_path / "hub",
        step_retry_seconds=1,
        billing_interval_seconds=0,
        policy_dir=policy,
    )
    stack = start_stack(settings)
    try:
        opp = close_won(
            stack, Billing_Model__c="Time & Materials", Rate_Card__c="STD-GBP", Amount="500000"
        )
        flow = wait_for_flow(stack, opp, "completed")
        workspace = flow["runs"][0]["result"]["system_ids"]["psa_project_id"]
        yield TmDeal(stack, workspace, policy)
    finally:
        stack.stop()
