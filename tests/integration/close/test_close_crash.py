"""A close interrupted by SIGKILL while posting its journals, then restarted: it completes
once, with every journal in NetSuite exactly once and the period locked."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from bench.close import PERIODS, populate

from pshub.close import records
from pshub.store.db import Database

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
PERIOD = PERIODS[-1]


def journals(boxes: Any) -> list[dict[str, Any]]:
    with boxes.admin("netsuite") as admin:
        return list(admin.get("/_sandbox/records/journalEntry").json())


def set_latency(boxes: Any, ms: float) -> None:
    with boxes.admin("netsuite") as admin:
        faults = admin.get("/_sandbox/faults").json()
        admin.put("/_sandbox/faults", json={**faults, "latency_ms": ms}).raise_for_status()


def start(env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.close.close_driver", "US", PERIOD],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log.open("a"),
        text=True,
    )


def test_sigkill_while_posting_then_restart_completes_the_close_exactly_once(
    world: tuple[Any, dict[str, str], int], tmp_path: Path
) -> None:
    boxes, env, _ = world
    db = Database(env["PSHUB_DATABASE_URL"])
    populate(db, 8)  # two contracts of each billing model, 36 months of facts
    log = tmp_path / "close.log"
    set_latency(boxes, 1500)  # slow ERP: the kill lands between the journals
    proc = start(env, log)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not journals(boxes):
            time.sleep(0.05)
        assert len(journals(boxes)) == 1, log.read_text()[-3000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        set_latency(boxes, 0)

        proc = start(env, log)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "locked", log.read_text()[-3000:]
    posted = journals(boxes)
    assert len(posted) == len(result["journals"]) == 2
    assert max(Counter(j["externalId"] for j in posted).values()) == 1
    with db.session() as s:
        assert records.is_locked(s, "US", PERIOD)
    db.dispose()
