"""Anaplan mapping: forecast rows and CSV, failure dumps, task counts, chunks."""

from __future__ import annotations

from datetime import date

import pytest

from pshub.connectors.anaplan import RejectedRow, mapping
from pshub.domain.money import Money


@pytest.mark.parametrize(
    ("day", "label"),
    [(date(2025, 1, 31), "Jan 25"), (date(2030, 12, 1), "Dec 30"), (date(2009, 6, 15), "Jun 09")],
)
def test_a_date_maps_to_anaplans_month_label(day: date, label: str) -> None:
    assert mapping.month_label(day) == label


def test_a_forecast_row_carries_the_amount_as_exact_decimal_text() -> None:
    row = mapping.forecast_row(
        snapshot="FC-2025-01",
        legal_entity="UK",
        service_line="DATA",
        month=date(2025, 3, 1),
        category="Forecast Revenue",
        amount=Money.of("1234567.891", "GBP"),
    )
    assert row == {
        "Snapshot": "FC-2025-01",
        "Legal Entity": "UK",
        "Service Line": "DATA",
        "Month": "Mar 25",
        "Category": "Forecast Revenue",
        "Amount": "1234567.89",
    }


def test_a_yen_amount_has_no_decimals() -> None:
    assert mapping.amount_text(Money.of("1500", "JPY")) == "1500"


def test_rows_survive_a_round_trip_through_csv_even_with_commas_and_quotes() -> None:
    rows = [
        dict.fromkeys(mapping.FORECAST_COLUMNS, 'a, "b"'),
        dict.fromkeys(mapping.FORECAST_COLUMNS, ""),
    ]
    assert mapping.from_csv(mapping.to_csv(rows)) == rows


def test_a_failure_dump_becomes_rejected_rows_with_line_reason_and_values() -> None:
    dump = (
        "_Status_,Snapshot,Legal Entity,Amount,_Line_,_Error_1_\n"
        "E,FC,\"Acme, Inc\",12O,3,Invalid number for Amount: '12O'\n"
        "E,FC,FR,1,7,Item not located in Legal Entity list: FR\n"
    )
    assert mapping.rejected_rows(dump) == [
        RejectedRow(
            row=3,
            reason="Invalid number for Amount: '12O'",
            values={"Snapshot": "FC", "Legal Entity": "Acme, Inc", "Amount": "12O"},
        ),
        RejectedRow(
            row=7,
            reason="Item not located in Legal Entity list: FR",
            values={"Snapshot": "FC", "Legal Entity": "FR", "Amount": "1"},
        ),
    ]


def test_row_counts_are_read_from_the_name_value_pairs_of_the_task_details() -> None:
    details = [
        {
            "localMessageText": "Employees: 90 (0/90) rows successful, 5 ignored",
            "values": ["hierarchyName", "Employees", "successRowCount", "90", "ignoredCount", "5"],
        }
    ]
    assert mapping.row_counts(details) == {"successRowCount": 90, "ignoredCount": 5}
    assert mapping.failure_message(details).startswith("Employees: 90")
    assert mapping.failure_message([]) == "the import task failed"


def test_data_is_split_into_chunks_that_join_back() -> None:
    data = bytes(range(256)) * 3
    chunks = mapping.split(data, 100)
    assert [len(c) for c in chunks] == [100] * 7 + [68]
    assert b"".join(chunks) == data
    assert mapping.split(b"", 10) == [b""]
    with pytest.raises(ValueError):
        mapping.split(data, 0)
