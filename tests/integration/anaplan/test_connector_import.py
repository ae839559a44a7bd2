"""publish_csv and export_cells over real HTTP: chunks, idempotent imports, rejected rows."""

from __future__ import annotations

import httpx
import pytest

from pshub.connectors.anaplan import AnaplanConnector, RejectedRow
from pshub.connectors.errors import NotFoundError, RejectedError

from .support import (
    DEFAULT_FILE_NAME,
    DEFAULT_IMPORT_NAME,
    FILE_PATH,
    HEADER,
    IMPORT_PATH,
    LOCALE,
    MODEL,
    cells,
    csv_bytes,
    expected,
    forecast_rows,
)


def test_a_file_larger_than_one_chunk_is_uploaded_in_chunks_and_reassembled(
    connector: AnaplanConnector, api: httpx.Client, admin: httpx.Client
) -> None:
    rows = forecast_rows("FC-2025-01", 40)
    data = csv_bytes(rows)
    outcome = connector.publish_csv(DEFAULT_FILE_NAME, data, DEFAULT_IMPORT_NAME, chunk_size=256)
    chunks = api.get(f"{FILE_PATH}/chunks").json()["chunks"]
    assert len(chunks) == -(-len(data) // 256) > 1
    assert api.get(FILE_PATH).content == data
    assert outcome.successful and outcome.rows_imported == 40 and outcome.rejected == []
    assert cells(admin) == expected(rows)


def test_publishing_the_same_file_twice_leaves_the_same_cells(
    connector: AnaplanConnector, admin: httpx.Client
) -> None:
    data = csv_bytes(forecast_rows("FC-2025-01", 12))
    first = connector.publish_csv(DEFAULT_FILE_NAME, data, DEFAULT_IMPORT_NAME, chunk_size=100)
    after_first = cells(admin)
    second = connector.publish_csv(DEFAULT_FILE_NAME, data, DEFAULT_IMPORT_NAME, chunk_size=100)
    assert first.task_id != second.task_id
    assert cells(admin) == after_first and len(after_first) == 12


def test_a_changed_amount_overwrites_its_cell_instead_of_adding_a_row(
    connector: AnaplanConnector, admin: httpx.Client
) -> None:
    rows = forecast_rows("FC-2025-01", 3)
    connector.publish_csv(DEFAULT_FILE_NAME, csv_bytes(rows), DEFAULT_IMPORT_NAME)
    revised = [*rows[:2], (*rows[2][:-1], "7777.77")]
    connector.publish_csv(DEFAULT_FILE_NAME, csv_bytes(revised), DEFAULT_IMPORT_NAME)
    assert cells(admin) == expected(revised)


def test_two_bad_rows_are_reported_with_their_reasons_and_the_good_rows_are_imported(
    connector: AnaplanConnector, admin: httpx.Client
) -> None:
    good = forecast_rows("FC-2025-02", 4)
    bad_amount = ("FC-2025-02", "UK", "DATA", "Jul 25", "Billings", "12O0.00")
    bad_month = ("FC-2025-02", "US", "DATA", "Month 13", "Billings", "10.00")
    rows = [good[0], bad_amount, good[1], good[2], bad_month, good[3]]
    outcome = connector.publish_csv(DEFAULT_FILE_NAME, csv_bytes(rows), DEFAULT_IMPORT_NAME)
    assert not outcome.successful
    assert outcome.rows_imported == 4
    assert [(r.row, r.values) for r in outcome.rejected] == [
        (3, dict(zip(HEADER, bad_amount, strict=True))),
        (6, dict(zip(HEADER, bad_month, strict=True))),
    ]
    assert "Invalid number for Amount" in outcome.rejected[0].reason
    assert "Invalid time period for Month" in outcome.rejected[1].reason
    assert cells(admin) == expected(good)


def test_an_unknown_list_item_is_rejected_with_the_list_it_is_missing_from(
    connector: AnaplanConnector,
) -> None:
    row = ("FC-2025-02", "FR", "DATA", "Jan 25", "Billings", "1.00")
    outcome = connector.publish_csv(DEFAULT_FILE_NAME, csv_bytes([row]), DEFAULT_IMPORT_NAME)
    assert outcome.rejected == [
        RejectedRow(
            row=2,
            reason="Item not located in Legal Entity list: FR",
            values=dict(zip(HEADER, row, strict=True)),
        )
    ]


def test_a_file_without_the_import_columns_is_rejected_as_a_whole(
    connector: AnaplanConnector, admin: httpx.Client
) -> None:
    data = b"Snapshot,Entity,Amount\nFC,US,1\n"
    with pytest.raises(RejectedError, match="Source columns not found") as caught:
        connector.publish_csv(DEFAULT_FILE_NAME, data, DEFAULT_IMPORT_NAME)
    assert caught.value.code == "IMPORT_FAILED"
    assert cells(admin) == {}


def test_an_unknown_import_is_not_found_before_anything_is_uploaded(
    connector: AnaplanConnector, api: httpx.Client
) -> None:
    with pytest.raises(NotFoundError):
        connector.publish_csv(DEFAULT_FILE_NAME, b"x", "No such import")
    assert api.get(f"{FILE_PATH}/chunks").status_code == 404


def test_exported_cells_are_the_ones_imported(connector: AnaplanConnector) -> None:
    rows = forecast_rows("FC-2025-03", 5)
    connector.publish_csv(DEFAULT_FILE_NAME, csv_bytes(rows), DEFAULT_IMPORT_NAME)
    exported = connector.export_cells("REV01 Revenue Forecast - pshub_export.csv")
    assert {tuple(r[h] for h in HEADER[:-1]): r["Amount"] for r in exported} == expected(rows)


def test_a_declared_chunk_count_completes_the_upload_without_the_complete_call(
    api: httpx.Client, admin: httpx.Client
) -> None:
    rows = forecast_rows("FC-2025-04", 2)
    data = csv_bytes(rows)
    octets = {"Content-Type": "application/octet-stream"}
    assert api.post(FILE_PATH, json={"chunkCount": 2}).json()["file"]["chunkCount"] == 2
    api.put(f"{FILE_PATH}/chunks/0", content=data[:50], headers=octets)
    api.put(f"{FILE_PATH}/chunks/1", content=data[50:], headers=octets)
    api.post(f"{IMPORT_PATH}/tasks", json=LOCALE).raise_for_status()
    admin.post(f"/_sandbox/models/{MODEL}/tasks/complete")
    assert cells(admin) == expected(rows)


def test_completing_an_upload_with_a_missing_chunk_is_refused(api: httpx.Client) -> None:
    octets = {"Content-Type": "application/octet-stream"}
    api.post(FILE_PATH, json={"chunkCount": -1})
    api.put(f"{FILE_PATH}/chunks/0", content=b"Snapshot", headers=octets)
    api.put(f"{FILE_PATH}/chunks/2", content=b",Amount", headers=octets)
    refused = api.post(f"{FILE_PATH}/complete")
    assert refused.status_code == 400
    assert "chunks received [0, 2]" in refused.json()["status"]["message"]


def test_an_import_of_a_file_never_uploaded_fails_without_a_dump(
    api: httpx.Client, admin: httpx.Client
) -> None:
    task_id = api.post(f"{IMPORT_PATH}/tasks", json=LOCALE).json()["task"]["taskId"]
    admin.post(f"/_sandbox/models/{MODEL}/tasks/complete")
    result = api.get(f"{IMPORT_PATH}/tasks/{task_id}").json()["task"]["result"]
    assert result["successful"] is False and result["failureDumpAvailable"] is False
    assert "not been uploaded" in result["details"][0]["localMessageText"]
