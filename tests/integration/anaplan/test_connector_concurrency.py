"""One import at a time per model: the raw 409, and publish_csv waiting its turn."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from pshub.connectors.anaplan import AnaplanConnector, ImportOutcome

from .conftest import ConnectorFactory
from .support import (
    DEFAULT_FILE_NAME,
    DEFAULT_IMPORT_NAME,
    FILE_PATH,
    IMPORT_PATH,
    LOCALE,
    MODEL,
    busy_answers,
    cells,
    csv_bytes,
    eventually,
    expected,
    forecast_rows,
    set_settings,
)

OCTETS = {"Content-Type": "application/octet-stream"}


def _start_long_import(api: httpx.Client, admin: httpx.Client) -> str:
    """A raw import that runs until the test finishes it through the admin API."""
    set_settings(admin, import_seconds=600)
    api.put(FILE_PATH, content=csv_bytes(forecast_rows("RAW", 2)), headers=OCTETS)
    task_id: str = api.post(f"{IMPORT_PATH}/tasks", json=LOCALE).json()["task"]["taskId"]
    set_settings(admin, import_seconds=0.2)  # later tasks finish on their own
    return task_id


def test_a_second_import_while_one_runs_gets_the_busy_answer(
    api: httpx.Client, admin: httpx.Client
) -> None:
    first = _start_long_import(api, admin)
    second = api.post(f"{IMPORT_PATH}/tasks", json=LOCALE)
    assert second.status_code == 409
    assert second.headers["Retry-After"] == "1"
    assert first in second.json()["status"]["message"]
    assert api.get(f"{IMPORT_PATH}/tasks/{first}").json()["task"]["taskState"] == "IN_PROGRESS"
    admin.post(f"/_sandbox/models/{MODEL}/tasks/complete")
    assert api.post(f"{IMPORT_PATH}/tasks", json=LOCALE).status_code == 200


def test_publish_waits_while_the_model_is_busy_and_then_imports(
    connector: AnaplanConnector, api: httpx.Client, admin: httpx.Client
) -> None:
    _start_long_import(api, admin)
    rows = forecast_rows("FC-2025-05", 3)
    with ThreadPoolExecutor(max_workers=1) as pool:
        publishing = pool.submit(
            connector.publish_csv, DEFAULT_FILE_NAME, csv_bytes(rows), DEFAULT_IMPORT_NAME
        )
        eventually(lambda: busy_answers(admin) >= 1, "publish_csv meets the busy model")
        assert not publishing.done()
        admin.post(f"/_sandbox/models/{MODEL}/tasks/complete")
        outcome = publishing.result(timeout=30)
    assert outcome.successful and outcome.rows_imported == 3
    assert expected(rows).items() <= cells(admin).items()


def test_two_threads_publishing_to_one_model_both_complete(
    make_connector: ConnectorFactory, admin: httpx.Client
) -> None:
    files = {name: csv_bytes(forecast_rows(name, 10)) for name in ("FC-A", "FC-B")}
    connectors = [make_connector(), make_connector()]

    def publish(pair: tuple[AnaplanConnector, bytes]) -> ImportOutcome:
        return pair[0].publish_csv(DEFAULT_FILE_NAME, pair[1], DEFAULT_IMPORT_NAME, chunk_size=64)

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(publish, zip(connectors, files.values(), strict=True)))
    assert [o.rows_imported for o in outcomes] == [10, 10]
    assert all(o.successful for o in outcomes)
    assert cells(admin) == {
        **expected(forecast_rows("FC-A", 10)),
        **expected(forecast_rows("FC-B", 10)),
    }
