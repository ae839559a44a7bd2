"""The subscribed-events feed read through the connector: total order, no skips, restarts."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import httpx

from pshub.connectors.kantata import KantataConnector
from pshub.domain.delivery import Change, ProjectBudget, TaskStatus, TimeEntry
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import create_app
from pshub.sandboxes.server import ThreadedServer

from .conftest import TOKEN


def _drain(
    psa: KantataConnector, cursor: str | None, limit: int
) -> tuple[list[Change], str | None]:
    seen: list[Change] = []
    while True:
        page, cursor_next = psa.changes(cursor, limit)
        if cursor_next == cursor:
            return seen, cursor
        seen += page
        cursor = cursor_next


def _event_ids(api: httpx.Client, **params: str) -> list[int]:
    body = api.get(
        "/api/v1/subscribed_events.json",
        params={
            "order": "created_at:asc",
            "per_page": 200,
            "created_after": "2000-01-01T00:00:00Z",
            **params,
        },
    ).json()
    return [int(r["id"]) for r in body["results"]]


def _write_concurrently(url: str, workspace_id: str, threads: int, each: int) -> None:
    def worker(n: int) -> None:
        with httpx.Client(
            base_url=url, timeout=30.0, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as api:
            for k in range(each):
                body = {
                    "workspace_id": int(workspace_id),
                    "date_performed": "2025-03-03",
                    "time_in_minutes": 15 + k,
                }
                created = api.post("/api/v1/time_entries.json", json={"time_entry": body})
                assert created.status_code == 200, created.text
                if k % 2:
                    entry = created.json()["results"][0]["id"]
                    api.put(
                        f"/api/v1/time_entries/{entry}.json",
                        json={"time_entry": {"notes": f"t{n}"}},
                    )

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def test_a_thousand_concurrent_changes_are_each_seen_once_and_in_order_with_small_pages(
    sandbox: ThreadedServer, api: httpx.Client, connector: KantataConnector, workspace_id: str
) -> None:
    _write_concurrently(sandbox.url, workspace_id, threads=8, each=84)  # 8 x (84 + 42) = 1008
    seen, cursor = _drain(connector, None, limit=7)
    cursors = [int(c.cursor) for c in seen]
    assert cursors == sorted(set(cursors))
    entry_changes = [c for c in seen if c.kind == "time_entry"]
    assert len(entry_changes) == 1008
    assert cursor == seen[-1].cursor
    assert connector.changes(cursor, 7) == ([], cursor)


def test_changes_committed_in_the_same_second_are_all_paged_by_id(
    api: httpx.Client, connector: KantataConnector, workspace_id: str
) -> None:
    seeded = api.post(
        "/_sandbox/bulk/time_entries",
        json={"generate": {"count": 500, "workspace_ids": [workspace_id]}},
    ).json()
    seen, _ = _drain(connector, None, limit=50)
    created = [c for c in seen if c.kind == "time_entry" and c.action == "created"]
    assert len({c.occurred_at for c in created}) == 1  # one bulk transaction, one timestamp
    assert [c.source_id for c in created] == [
        str(n) for n in range(int(seeded["first_id"]), int(seeded["last_id"]) + 1)
    ]


def test_the_cursor_stays_valid_across_a_sandbox_restart(tmp_path: Path) -> None:
    path = tmp_path / "kantata.db"
    first_half: list[Change] = []
    with _running(path) as (url, api):
        wid = api.post("/api/v1/workspaces.json", json={"workspace": {"title": "R"}}).json()[
            "results"
        ][0]["id"]
        _write_concurrently(url, wid, threads=3, each=20)
        with KantataConnector(url, TOKEN) as psa:
            for _ in range(4):
                page, cursor = psa.changes(first_half[-1].cursor if first_half else None, 9)
                first_half += page
    with _running(path) as (url, api):
        _write_concurrently(url, wid, threads=2, each=10)
        with KantataConnector(url, TOKEN) as psa:
            rest, _ = _drain(psa, cursor, limit=9)
        every = _event_ids(api)
    ids = [int(c.cursor) for c in first_half + rest]
    assert ids == every  # nothing lost, nothing twice, in order, across the restart


class _running:
    """A sandbox on a state file: stopping and reopening it is a restart."""

    def __init__(self, path: Path) -> None:
        self.state = SandboxState(path)
        self.server = ThreadedServer(create_app(self.state, tokens={TOKEN}), name="kantata-restart")

    def __enter__(self) -> tuple[str, httpx.Client]:
        self.server.start()
        self.api = httpx.Client(
            base_url=self.server.url, timeout=30.0, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        return self.server.url, self.api

    def __exit__(self, *exc: object) -> None:
        self.api.close()
        self.server.stop()
        self.state.close()


def _versions(seen: list[Change], source_id: str) -> list[TimeEntry]:
    return [c.record for c in seen if c.source_id == source_id and isinstance(c.record, TimeEntry)]


def test_approval_and_unapproval_each_produce_a_new_version_of_the_entry(
    connector: KantataConnector, workspace_id: str
) -> None:
    entry = connector.create_time_entry(workspace_id, date(2025, 3, 4), 90, key="e1")
    connector.approve([entry])
    connector.unapprove([entry], reason="wrong task")
    seen, _ = _drain(connector, None, limit=5)
    versions = _versions(seen, entry)
    assert [v.approved for v in versions] == [False, True, False]
    assert [v.version for v in versions] == sorted({v.version for v in versions})
    assert versions[1].approved_at is not None and versions[2].approved_at is None
    [current] = connector.time_entries([entry])
    assert (current.version, current.approved) == (versions[-1].version, False)


def test_milestone_completion_and_a_budget_change_appear_in_the_feed(
    api: httpx.Client, connector: KantataConnector, workspace_id: str, milestone_story_id: str
) -> None:
    _, cursor = _drain(connector, None, limit=50)
    connector.complete_milestone(milestone_story_id)
    api.put(f"/api/v1/workspaces/{workspace_id}.json", json={"workspace": {"price": "65000.50"}})
    seen, _ = _drain(connector, cursor, limit=50)
    task, project = seen[0].record, seen[1].record
    assert isinstance(task, TaskStatus) and (task.milestone, task.completed) == (True, True)
    assert isinstance(project, ProjectBudget) and project.budget is not None
    assert str(project.budget.amount) == "65000.50"
