"""The hub worker killed with SIGKILL mid-flow and restarted: the flow completes once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pshub.connectors.salesforce import SalesforceConnector
from pshub.stack import Sandboxes
from tests.integration.test_deal_to_project_http import ACCOUNT, LINES, deal, records

pytestmark = pytest.mark.slow


def start_hub(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pshub.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("a"),
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the hub prints one JSON line once it serves
    assert line, f"hub did not start; see {log}"
    assert json.loads(line)["hub"].endswith(str(port))
    if port not in _KEYS:
        register_api_key(env, port)
    return proc


_KEYS: dict[int, str] = {}


def flow(port: int, opp_id: str) -> dict[str, Any] | None:
    key = _KEYS.get(port)
    response = httpx.get(
        f"http://127.0.0.1:{port}/flows/deal:salesforce:{opp_id}",
        timeout=10,
        headers={"X-API-Key": key} if key else {},
    )
    return response.json() if response.status_code == 200 else None


def register_api_key(env: dict[str, str], port: int) -> str:
    """An API client in the subprocess hub's database (as an operator would create one)."""
    from types import SimpleNamespace

    from pshub.console.accounts import create_api_client
    from pshub.store.db import Database

    db = Database(env["PSHUB_DATABASE_URL"])
    try:
        key = create_api_client(
            SimpleNamespace(db=db),
            f"tests-{port}",  # type: ignore[arg-type]
            ["read", "operate"],
            actor="tests",
            rate_per_minute=100_000,
            burst=10_000,
        )
    finally:
        db.dispose()
    _KEYS[port] = key
    return key


def test_a_hub_killed_mid_flow_resumes_after_restart_without_duplicates(world, tmp_path) -> None:
    boxes, env, port = world
    log = tmp_path / "hub.log"
    hub = start_hub(env, port, log)
    try:
        with boxes.admin("kantata") as admin:  # slow PSA: the kill lands while it is being written
            admin.put("/_sandbox/faults", json={"latency_ms": 700}).raise_for_status()
        sf = SalesforceConnector(
            boxes.salesforce.url,
            env.get("PSHUB_SALESFORCE_CLIENT_ID", "pshub-demo-client"),
            "pshub-demo-secret",
            ca_file=str(boxes.ca_file),
        )
        account_id = sf.create_account(ACCOUNT)
        opp_id = sf.create_opportunity(deal(account_id), LINES)
        sf.update_opportunity(opp_id, {"StageName": "Closed Won", "Probability": 100})
        sf.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the PSA project is being written
            with boxes.admin("kantata") as admin:
                if admin.get("/_sandbox/stats").json()["requests"] >= 2:
                    break
            time.sleep(0.05)
        hub.send_signal(signal.SIGKILL)
        hub.wait(timeout=10)
        current = flow_status_from_db(env)
        assert current == "running", f"the kill should land mid-flow, found {current!r}"
        with boxes.admin("kantata") as admin:
            admin.put("/_sandbox/faults", json={"latency_ms": 0}).raise_for_status()
        hub = start_hub(env, port, log)
        deadline = time.monotonic() + 90
        result = None
        while time.monotonic() < deadline:
            result = flow(port, opp_id)
            if result and result["status"] == "completed":
                break
            time.sleep(0.3)
        assert result and result["status"] == "completed", log.read_text()[-3000:]
        assert len(result["runs"]) == 1
        assert len(records(boxes_stack(boxes), "netsuite", "customer")) == 1
        assert len(records(boxes_stack(boxes), "netsuite", "job")) == 1
        assert len(records(boxes_stack(boxes), "kantata", "workspaces")) == 1
        assert len(records(boxes_stack(boxes), "kantata", "stories")) == 8
    finally:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(timeout=20)
        except subprocess.TimeoutExpired:
            hub.kill()
        if hub.stdout:
            hub.stdout.close()


def flow_status_from_db(env: dict[str, str]) -> str | None:
    from sqlalchemy import select

    from pshub.store.db import Database
    from pshub.store.tables import FlowRun

    db = Database(env["PSHUB_DATABASE_URL"], migrate=False)
    try:
        with db.session() as s:
            return s.scalars(select(FlowRun.status)).first()
    finally:
        db.dispose()


class boxes_stack:
    def __init__(self, boxes: Sandboxes) -> None:
        self.sandboxes = boxes
