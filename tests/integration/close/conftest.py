"""A provisioned milestone deal (UK, GBP) with its first milestone invoiced in NetSuite: the
world a month-end close runs on (see tests/integration/invoicing/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pshub.close.facts import month
from pshub.flows import month_end_close as flow
from pshub.flows.durable import result_of
from pshub.store.invoicing_tables import InvoiceRow
from tests.integration.invoicing.conftest import Deal
from tests.integration.invoicing.conftest import deal as deal

ENTITY = "UK"


@pytest.fixture
def invoiced(deal: Deal) -> Iterator[tuple[Deal, str]]:
    """The deal after its first milestone was accepted and invoiced; and that period."""
    first = deal.milestones[0]
    deal.complete(first)
    deal.poll()
    deal.settle(first, "invoiced")
    with deal.stack.container.db.session() as s:
        row = s.get(InvoiceRow, _invoice_id(deal, first.id))
        assert row is not None
        period = month(row.invoice_date)
    yield deal, period


def _invoice_id(world: Deal, milestone_id: str) -> str:
    from pshub.store.invoicing_tables import MilestoneBillingRow

    with world.stack.container.db.session() as s:
        row = s.get(MilestoneBillingRow, milestone_id)
        assert row is not None and row.invoice_id is not None
        return row.invoice_id


def close(period: str, revision: int = 0, entity: str = ENTITY, **kw: Any) -> dict[str, Any]:
    inp = flow.CloseMonthInput(entity=entity, period=period, revision=revision, **kw)
    result: dict[str, Any] = result_of(flow.start(inp))
    return result


def journals(world: Deal) -> list[dict[str, Any]]:
    return world.records("netsuite", "journalEntry")
