"""Sandbox answers validated against the vendor's OpenAPI files (auth and Integration API v2)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from . import spec_check
from .support import (
    EXPORT_PATH,
    FILE_PATH,
    IMPORT_PATH,
    LOCALE,
    MODEL,
    MODEL_PATH,
    PASSWORD,
    USER,
    WS,
    csv_bytes,
    forecast_rows,
    set_settings,
)

if spec_check.REQUIRED and not spec_check.available():
    raise RuntimeError(f"Anaplan OpenAPI files are required in CI: {spec_check.SPEC_DIR}")

pytestmark = pytest.mark.skipif(
    not spec_check.available(), reason="Anaplan OpenAPI files not found (PSHUB_ANAPLAN_SPECS)"
)


def _checked(response: httpx.Response) -> Any:
    spec_check.check_response(
        response.request.method,
        str(response.url),
        response.status_code,
        response.content,
        response.headers.get("content-type"),
    )
    is_json = response.headers.get("content-type", "").startswith("application/json")
    return response.json() if is_json else response.content


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    """An answer the operation does not list: check it against ``ErrorResponse`` itself."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    spec_check.check_schema(spec_check.API_FILE, "ErrorResponse", body)
    return body


def _upload(api: httpx.Client, data: bytes, chunk: int = 40) -> None:
    _checked(api.post(FILE_PATH, json={"chunkCount": -1}))
    for index, start in enumerate(range(0, len(data), chunk)):
        piece = data[start : start + chunk]
        _checked(
            api.put(
                f"{FILE_PATH}/chunks/{index}",
                content=piece,
                headers={"Content-Type": "application/octet-stream"},
            )
        )
    _checked(api.post(f"{FILE_PATH}/complete"))


def _run_import(api: httpx.Client) -> str:
    task_id: str = _checked(api.post(f"{IMPORT_PATH}/tasks", json=LOCALE))["task"]["taskId"]
    api.post(f"/_sandbox/models/{MODEL}/tasks/complete")
    return task_id


def test_auth_service_answers_follow_the_authentication_spec(admin: httpx.Client) -> None:
    created = _checked(admin.post("/token/authenticate", auth=(USER, PASSWORD)))
    token = created["tokenInfo"]["tokenValue"]
    bearer = {"Authorization": f"AnaplanAuthToken {token}"}
    refreshed = _checked(admin.post("/token/refresh", headers=bearer))
    assert refreshed["tokenInfo"]["tokenValue"] == token
    _checked(admin.get("/token/validate", headers=bearer))
    _checked(admin.post("/token/authenticate", auth=(USER, "wrong")))
    _checked(admin.post("/token/refresh", headers={"Authorization": "Bearer x"}))
    _checked(admin.post("/token/logout", headers=bearer))
    _checked(admin.post("/token/refresh", headers=bearer))


def test_workspace_and_model_answers_follow_the_integration_spec(api: httpx.Client) -> None:
    listed = _checked(api.get("/2/0/workspaces", params={"tenantDetails": "true"}))
    assert [w["id"] for w in listed["workspaces"]] == [WS]
    _checked(api.get(f"/2/0/workspaces/{WS}"))
    _checked(api.get(f"/2/0/workspaces/{WS}/models"))
    _checked(api.get("/2/0/models", params={"limit": 1, "offset": 0}))
    assert _checked(api.get(f"/2/0/models/{MODEL}"))["model"]["currentWorkspaceId"] == WS


def test_file_answers_follow_the_integration_spec(api: httpx.Client) -> None:
    data = csv_bytes(forecast_rows("FC-2025-01", 3))
    _upload(api, data)
    files = _checked(api.get(f"{MODEL_PATH}/files"))["files"]
    assert any(f["chunkCount"] > 1 for f in files)
    chunks = _checked(api.get(f"{FILE_PATH}/chunks"))["chunks"]
    assert b"".join(_checked(api.get(f"{FILE_PATH}/chunks/{c['id']}")) for c in chunks) == data
    assert _checked(api.get(FILE_PATH)) == data
    single = {"Content-Type": "application/octet-stream"}
    _checked(api.put(FILE_PATH, content=data, headers=single))
    _checked(api.delete(FILE_PATH))
    assert _checked(api.get(FILE_PATH)) is not None  # 404 once the content is gone
    _checked(api.get(f"{MODEL_PATH}/files/113999999999/chunks"))


def test_import_answers_follow_the_integration_spec(api: httpx.Client) -> None:
    rows = forecast_rows("FC-2025-01", 3)
    _upload(api, csv_bytes([*rows, ("FC-2025-01", "XX", "DATA", "Jan 25", "Billings", "1")]))
    assert _checked(api.get(f"{MODEL_PATH}/imports/"))["imports"][0]["importType"] == "MODULE_DATA"
    _checked(api.get(f"{IMPORT_PATH}"))
    task_id = _run_import(api)
    task = _checked(api.get(f"{IMPORT_PATH}/tasks/{task_id}"))["task"]
    assert task["taskState"] == "COMPLETE" and task["result"]["failureDumpAvailable"]
    _checked(api.get(f"{IMPORT_PATH}/tasks"))
    assert b"Item not located" in _checked(api.get(f"{IMPORT_PATH}/tasks/{task_id}/dump"))
    for chunk in _checked(api.get(f"{IMPORT_PATH}/tasks/{task_id}/dump/chunks"))["chunks"]:
        _checked(api.get(f"{IMPORT_PATH}/tasks/{task_id}/dump/chunks/{chunk['id']}"))
    _upload(api, csv_bytes(rows))
    clean = _run_import(api)
    assert _checked(api.get(f"{IMPORT_PATH}/tasks/{clean}/dump")) == b""  # 204: no failures
    _checked(api.get(f"{IMPORT_PATH}/tasks/{task_id}/dump"))  # 404: replaced by the later run


def test_a_running_import_task_follows_the_task_schema(api: httpx.Client) -> None:
    set_settings(api, import_seconds=60)
    _upload(api, csv_bytes(forecast_rows("FC-2025-01", 2)))
    task_id = _checked(api.post(f"{IMPORT_PATH}/tasks", json=LOCALE))["task"]["taskId"]
    running = _checked(api.get(f"{IMPORT_PATH}/tasks/{task_id}"))["task"]
    assert running["taskState"] == "IN_PROGRESS" and "result" not in running
    _checked(api.get(f"{IMPORT_PATH}/tasks/{task_id}/dump"))  # 404 while it runs
    api.post(f"/_sandbox/models/{MODEL}/tasks/complete")


def test_export_answers_follow_the_integration_spec(api: httpx.Client) -> None:
    _upload(api, csv_bytes(forecast_rows("FC-2025-01", 4)))
    _run_import(api)
    assert _checked(api.get(f"{MODEL_PATH}/exports"))["exports"]
    assert _checked(api.get(EXPORT_PATH))["exportMetadata"]["rowCount"] == 4
    task_id = _checked(api.post(f"{EXPORT_PATH}/tasks", json=LOCALE))["task"]["taskId"]
    assert _checked(api.get(f"{EXPORT_PATH}/tasks/{task_id}"))["task"]["result"]["successful"]
    _checked(api.get(f"{EXPORT_PATH}/tasks"))


def test_not_found_answers_follow_the_not_found_response(api: httpx.Client) -> None:
    _checked(api.get(f"{MODEL_PATH}/imports/112999999999/tasks/ABC"))
    _checked(api.get(f"/2/0/workspaces/{WS}/models/{'0' * 32}/files"))


def test_error_answers_the_operations_do_not_list_still_follow_error_response(
    api: httpx.Client, admin: httpx.Client
) -> None:
    assert "AnaplanAuthToken" in _error(admin.get("/2/0/workspaces"), 401)["status"]["message"]
    assert _error(api.post(f"{IMPORT_PATH}/tasks", json={}), 400)["path"] == f"{IMPORT_PATH}/tasks"
    set_settings(api, import_seconds=60)
    _upload(api, csv_bytes(forecast_rows("FC-2025-01", 1)))
    api.post(f"{IMPORT_PATH}/tasks", json=LOCALE)
    busy = api.post(f"{IMPORT_PATH}/tasks", json=LOCALE)
    assert "busy" in _error(busy, 409)["status"]["message"]
    api.post(f"/_sandbox/models/{MODEL}/tasks/complete")
    api.post("/_sandbox/outage", json={"seconds": 60})
    assert _error(api.get("/2/0/workspaces"), 503)["status"]["code"] == 503


def test_the_connector_sends_request_bodies_the_spec_accepts() -> None:
    spec_check.check_request("POST", FILE_PATH, {"chunkCount": -1})
    spec_check.check_request(
        "PUT", f"{FILE_PATH}/chunks/0", b"Snapshot,Amount\n", "application/octet-stream"
    )
    spec_check.check_request("POST", f"{IMPORT_PATH}/tasks", LOCALE)
    spec_check.check_request("POST", f"{EXPORT_PATH}/tasks", LOCALE)


def test_the_checker_rejects_an_answer_that_breaks_the_schema() -> None:
    broken = {"meta": {"schema": "x"}, "status": {"code": 200}, "task": {"taskState": "DONE"}}
    with pytest.raises(spec_check.SpecMismatch, match="DONE"):
        spec_check.check_response(
            "GET", f"{IMPORT_PATH}/tasks/ABC", 200, json.dumps(broken).encode(), "application/json"
        )
