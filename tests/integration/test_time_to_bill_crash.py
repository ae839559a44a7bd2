"""A drain interrupted by SIGKILL of the hub, then restarted: every entry posted exactly once."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from pshub.connectors.salesforce import SalesforceConnector
from tests.integration.test_crash_recovery import flow, start_hub
from tests.integration.test_deal_to_project_http import ACCOUNT, deal
from tests.integration.test_time_to_bill_http import approve_generated_time

pytestmark = pytest.mark.slow
ENTRIES = 1500


def provision_tm_deal(boxes: Any, port: int) -> str:
    sf = SalesforceConnector(
        boxes.salesforce.url, "pshub-demo-client", "pshub-demo-secret", ca_file=str(boxes.ca_file)
    )
    try:
        account = sf.create_account(ACCOUNT)
        opp = sf.create_opportunity(
            deal(
                account,
                Billing_Model__c="Time & Materials",
                Rate_Card__c="STD-GBP",
                Amount="9000000",
            ),
            [{"Description": "T&M", "Quantity": 1, "UnitPrice": "9000000"}],
        )
        sf.update_opportunity(opp, {"StageName": "Closed Won", "Probability": 100})
    finally:
        sf.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = flow(port, opp)
        if found and found["status"] == "completed":
            return str(found["runs"][0]["result"]["system_ids"]["psa_project_id"])
        time.sleep(0.3)
    raise AssertionError("the T&M deal was not provisioned")


def time_bills(boxes: Any) -> list[dict[str, Any]]:
    with boxes.admin("netsuite") as admin:
        return list(admin.get("/_sandbox/records/timeBill").json())


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux ``/proc``; empty elsewhere)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.parametrize("processes", [0, 2], ids=["in-process", "posting-processes"])
def test_sigkill_during_a_drain_then_restart_posts_every_entry_exactly_once(
    world, tmp_path, processes
) -> None:
    boxes, env, port = world
    env = {
        **env,
        "PSHUB_BILLING_INTERVAL_SECONDS": "1",
        "PSHUB_POSTING_PROCESSES": str(processes),
    }
    log = tmp_path / "hub.log"
    hub = start_hub(env, port, log)
    try:
        workspace = provision_tm_deal(boxes, port)
        with boxes.admin("netsuite") as admin:  # slow ERP: the drain takes a while
            faults = admin.get("/_sandbox/faults").json()
            admin.put("/_sandbox/faults", json={**faults, "latency_ms": 150}).raise_for_status()
        approve_generated_time(boxes, [workspace], ENTRIES, seed=3)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(time_bills(boxes)) < ENTRIES // 5:
            time.sleep(0.1)
        posted_before_kill = len(time_bills(boxes))
        assert 0 < posted_before_kill < ENTRIES, "the kill should land mid-drain"
        workers = children(hub.pid)
        if processes and Path("/proc").is_dir():
            assert len(workers) >= processes, "the drain should run in posting processes"
        hub.send_signal(signal.SIGKILL)
        hub.wait(timeout=10)
        deadline = time.monotonic() + 5  # posting processes do not outlive the hub
        while time.monotonic() < deadline and any(alive(w) for w in workers):
            time.sleep(0.05)
        assert not [w for w in workers if alive(w)], "a posting process outlived the hub"
        with boxes.admin("netsuite") as admin:
            admin.put("/_sandbox/faults", json={**faults, "latency_ms": 0}).raise_for_status()
        hub = start_hub(env, port, log)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and len(time_bills(boxes)) < ENTRIES:
            time.sleep(0.3)
        bills = time_bills(boxes)
        per_entry = Counter(str(b["externalId"]) for b in bills)
        assert len(bills) == ENTRIES, log.read_text()[-3000:]
        assert max(per_entry.values()) == 1  # no entry billed twice
        with boxes.admin("netsuite") as admin:
            assert admin.get("/_sandbox/stats").json()["faults_served"].get("concurrency", 0) == 0
    finally:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(timeout=20)
        except subprocess.TimeoutExpired:
            hub.kill()
        if hub.stdout:
            hub.stdout.close()


def test_hub_api_needs_authentication(world, tmp_path) -> None:
    _, env, port = world
    hub = start_hub(env, port, tmp_path / "hub.log")
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/exceptions", timeout=10)
        assert response.status_code == 401
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(timeout=20)
        if hub.stdout:
            hub.stdout.close()
