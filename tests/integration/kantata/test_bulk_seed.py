"""100,000 seeded time entries: the feed pages by id and lists stay paged (timings printed)."""

from __future__ import annotations

import time

import httpx
import pytest

from pshub.connectors.kantata import KantataConnector

TOTAL = 100_000


@pytest.mark.slow
def test_a_hundred_thousand_seeded_entries_are_paged_through_the_feed_exactly_once(
    api: httpx.Client, connector: KantataConnector
) -> None:
    spaces = [
        api.post("/api/v1/workspaces.json", json={"workspace": {"title": f"W{n}"}}).json()[
            "results"
        ][0]["id"]
        for n in range(4)
    ]
    started = time.perf_counter()
    seeded = api.post(
        "/_sandbox/bulk/time_entries",
        json={"generate": {"count": TOTAL, "workspace_ids": spaces, "days": 90}, "approve": True},
        timeout=300.0,
    ).json()
    seeding = time.perf_counter() - started

    started = time.perf_counter()
    cursor: str | None = None
    created: set[str] = set()
    approvals = changes = 0
    while True:
        page, next_cursor = connector.changes(cursor, 200)
        if next_cursor == cursor:
            break
        changes += len(page)
        created.update(
            c.source_id for c in page if c.kind == "time_entry" and c.action == "created"
        )
        approvals += sum(1 for c in page if c.kind == "time_entry" and c.action == "updated")
        cursor = next_cursor
    paging = time.perf_counter() - started

    started = time.perf_counter()
    last_page = api.get(
        "/api/v1/time_entries.json",
        params={"workspace_id": spaces[0], "per_page": 200, "page": 125},
    ).json()
    listing = time.perf_counter() - started

    print(
        f"\nseeded {seeded['inserted']} entries / {seeded['events']} events in {seeding:.1f}s;"
        f" paged {changes} changes in {paging:.1f}s ({changes / paging:.0f}/s);"
        f" page 125 of one workspace's entries in {listing * 1000:.0f}ms"
    )
    assert len(created) == TOTAL and approvals == TOTAL
    assert last_page["meta"]["count"] == TOTAL // 4 and len(last_page["results"]) == 200
