"""A posted ERP line is stored as its columns plus the rest of the line as the body, and is
put back together exactly, on both engines; a body stored whole (earlier rows) reads the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pshub.domain.ids import external_id
from pshub.flows.billing_post import _line_row
from pshub.flows.ports import ErpBillingLine
from pshub.store import billing as repo
from pshub.store.db import Database

LINE = ErpBillingLine(
    key="time:t9:v2:billable",
    external_id=external_id("time:t9:v2:billable"),
    action="post",
    kind="time",
    customer_id="c-17",
    job_id="j-42",
    subsidiary_id="2",
    employee="E-2003",
    work_date=date(2026, 10, 28),
    posting_date=date(2026, 11, 10),
    period="2026-10",
    hours=Decimal("7.50"),
    rate=Decimal("175.00"),
    amount=Decimal("1312.500"),
    cost=Decimal("0.10"),
    currency="GBP",
    billable=True,
    tax_code="VAT:S-GB",
    memo="time t9 v2 billable — a note",
)


def planned(line: ErpBillingLine) -> dict[str, Any]:
    return {
        "key": line.key,
        "batch_id": "ttb-1",
        "source_key": line.key.rsplit(":", 2)[0],
        "version": 2,
        "action": line.action,
        "project_id": "ws-1",
        "legal_entity": "UK",
        "period": line.period,
        "amount": line.amount,
        "currency": line.currency,
        "approved_at": datetime(2026, 10, 30, 12, 0, tzinfo=UTC),
        "posting_date": line.posting_date,
        "erp": line,
    }


def test_a_stored_line_reads_back_as_the_line_that_was_posted(db_url: str) -> None:
    db = Database(db_url)
    whole = replace(LINE, key="time:t8:v1:billable", external_id=external_id("time:t8:v1:billable"))
    now = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    new_row = _line_row(planned(LINE), None, True, None, now)
    old_row = _line_row(planned(whole), None, True, None, now) | {"body": {"erp": whole.to_json()}}
    try:
        with db.session() as s:
            repo.record_lines(s, [new_row, old_row])
        with db.session() as s:
            found = repo.posted_lines(s, ["time:t9", "time:t8"])
        assert found == {"time:t9": [(LINE, "UK")], "time:t8": [(whole, "UK")]}
        assert set(new_row["body"]["erp"]) >= {"billable", "cost", "hours", "rate", "memo"}
        assert not set(new_row["body"]["erp"]) & {"key", "amount", "period", "currency"}
    finally:
        db.dispose()
