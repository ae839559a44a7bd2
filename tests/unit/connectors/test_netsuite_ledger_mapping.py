"""NetSuite ledger mapping: time bills, reversals, journals and exact amounts on the wire."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from pshub.connectors.netsuite.ledger_mapping import journal_body, time_bill_body
from pshub.connectors.netsuite.schemas import JournalDraft, JournalLine, TimeBillLine
from pshub.connectors.netsuite.wirejson import dumps, loads
from pshub.domain.money import money

LINE = TimeBillLine(
    external_id="tim_1",
    customer_job_id="105",
    employee_ref="107",
    date=date(2025, 3, 3),
    hours=Decimal("7.25"),
    rate=money("150.00", "USD"),
    amount=money("1087.50", "USD"),
    task="9001",
)


def test_a_time_bill_body_carries_the_external_id_and_references() -> None:
    body = time_bill_body(LINE)

    assert body["externalId"] == "PSHUB-tim_1"
    assert body["customer"] == {"id": "105"}
    assert body["employee"] == {"id": "107"}
    assert body["caseTaskEvent"] == {"id": "9001"}
    assert (body["hours"], body["rate"], body["tranDate"]) == (
        Decimal("7.25"),
        Decimal("150.00"),
        "2025-03-03",
    )
    assert "subsidiary" not in body and "memo" not in body


def test_a_reversal_updates_the_original_to_zero_hours() -> None:
    reversal = LINE.model_copy(update={"external_id": "tim_2", "reverses": "tim_1"})

    body = time_bill_body(reversal)

    assert body["externalId"] == "PSHUB-tim_1"
    assert (body["hours"], body["isBillable"]) == (Decimal(0), False)
    assert body["memo"] == "Reversed by PSHUB-tim_2"


def test_amounts_go_on_the_wire_as_exact_numbers_and_come_back_as_decimals() -> None:
    payload = dumps({"amount": Decimal("0.10"), "hours": Decimal("7.25"), "n": 3})

    assert payload == b'{"amount":0.10,"hours":7.25,"n":3}'
    assert loads(payload) == {"amount": Decimal("0.10"), "hours": Decimal("7.25"), "n": 3}
    assert json.loads(payload)["amount"] == 0.1  # any JSON reader sees a number


def test_a_journal_body_puts_each_side_on_its_own_line() -> None:
    draft = JournalDraft(
        canonical_id="jnl_1",
        subsidiary_id="1",
        currency="USD",
        tran_date=date(2025, 3, 31),
        lines=(
            JournalLine(account_id="3", debit=money("10.00", "USD")),
            JournalLine(account_id="5", credit=money("10.00", "USD"), memo="Revenue"),
        ),
        pending_approval=True,
    )

    body = journal_body(draft, currency_id="1")

    assert body["line"]["items"] == [
        {"account": {"id": "3"}, "debit": Decimal("10.00")},
        {"account": {"id": "5"}, "credit": Decimal("10.00"), "memo": "Revenue"},
    ]
    assert body["approvalStatus"] == {"id": "1"}
    assert "postingPeriod" not in body  # NetSuite derives it from tranDate
