"""A NetSuite sandbox keeps its records in its SQLite file: a restart on the same file has them."""

from __future__ import annotations

from pathlib import Path

from netsuite_helpers import ACCOUNT, CREDS

from pshub.connectors.netsuite import NetSuiteConnector
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.netsuite import create_app
from pshub.sandboxes.server import ThreadedServer


def _customers(first: int, count: int) -> list[tuple[str, dict[str, object]]]:
    return [
        (f"c{n}", {"externalId": f"cust-{n}", "companyName": f"Co {n}", "subsidiary": {"id": "1"}})
        for n in range(first, first + count)
    ]


def _run(path: Path, items: list[tuple[str, dict[str, object]]]) -> tuple[list[str], int]:
    """Start a sandbox on ``path``, batch-upsert ``items``, stop it; (internal ids, customers)."""
    state = SandboxState(path)
    app = create_app(state, account_id=ACCOUNT, **CREDS)
    try:
        with ThreadedServer(app, name="netsuite-persist") as server:
            with NetSuiteConnector(server.url, ACCOUNT, **CREDS) as conn:
                results = conn.bulk.upsert("customer", items)
            stored = len(state.all("customer"))
    finally:
        app.state.async_runner.close()
        state.close()
    assert all(r.posted for r in results), results
    return [str(r.internal_id) for r in results], stored


def test_a_restarted_sandbox_keeps_batch_written_records_and_continues_their_ids(
    tmp_path: Path,
) -> None:
    path = tmp_path / "netsuite.sqlite"
    first, stored = _run(path, _customers(0, 150))
    assert stored == 150

    again, stored = _run(path, _customers(100, 100))  # 50 updates, 50 new

    assert stored == 200
    assert again[:50] == first[100:]  # upserted by external id: the same records
    assert min(int(i) for i in again[50:]) > max(int(i) for i in first)
