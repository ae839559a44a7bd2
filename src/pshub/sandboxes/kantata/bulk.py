"""``POST /_sandbox/bulk/time_entries``: seed many time entries in one request (sandbox only).

Not a Kantata endpoint: the vendor's bulk create stops at 100 entries per request, which makes
seeding 100,000 entries for a benchmark slow for no insight. This admin route (never faulted,
no bearer token, like the rest of ``/_sandbox``) writes entries exactly as ``POST
/time_entries`` would store them, with their ``time_entry:created`` events, in one transaction.
With ``"approve": true`` it also files one approved timesheet submission per workspace, user
and week and writes the approval events (``timesheet_submission:created|updated`` and
``time_entry:updated`` with ``approved: true``), as ``POST /timesheet_approvals`` would.

Body: ``{"time_entries": [{workspace_id, date_performed, time_in_minutes, user_id?,
story_id?, billable?, notes?}, ...], "approve": false}`` or ``{"generate": {"count": 100000,
"workspace_ids": [...], "start_date": "2025-01-06", "days": 60, "seed": 0}, "approve": true}``.
Answers ``{"inserted": n, "events": m, "first_id": "...", "last_id": "..."}``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import events, roles, sql, time_entries, time_store
from pshub.sandboxes.kantata import users as us
from pshub.sandboxes.kantata import workspaces as ws
from pshub.sandboxes.kantata.common import base_unit
from pshub.sandboxes.kantata.envelope import now_iso
from pshub.sandboxes.kantata.errors import FieldErrors, system_error
from pshub.sandboxes.kantata.submissions import TIME

_EVENT_INSERT = (
    "INSERT INTO kantata_events(created_at, event_type, subject_type, subject_id, user_id,"
    " workspace_id, current_payload, previous_payload) VALUES(?,?,?,?,?,?,?,?)"
)
MAX_BULK = 500_000


def _generate(spec: dict[str, Any]) -> list[dict[str, Any]]:
    rng = random.Random(int(spec.get("seed", 0)))
    count = int(spec.get("count", 0))
    workspaces = [str(w) for w in spec.get("workspace_ids") or []]
    users = [str(u) for u in spec.get("user_ids") or [int(us.ME_ID) + n for n in range(6)]]
    start = date.fromisoformat(str(spec.get("start_date", "2025-01-06")))
    days = int(spec.get("days", 60))
    return [
        {
            "workspace_id": workspaces[n % len(workspaces)] if workspaces else "",
            "user_id": rng.choice(users),
            "date_performed": (start + timedelta(days=rng.randrange(days))).isoformat(),
            "time_in_minutes": rng.choice((30, 60, 90, 120, 240, 480)),
            "notes": f"seeded entry {n}",
        }
        for n in range(count)
    ]


def _check(state: SandboxState, items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Validate cheaply (one lookup per distinct workspace); returns the workspaces by id."""
    errors = FieldErrors()
    spaces = {str(i["workspace_id"]) for i in items}
    found = {w: rec for w in spaces if (rec := state.get(ws.COLLECTION, w)) is not None}
    for n, item in enumerate(items):
        if str(item["workspace_id"]) not in found:
            errors.add(f"time_entries[{n}].workspace_id", "workspace not found")
        minutes = item.get("time_in_minutes")
        if not isinstance(minutes, int) or not 0 <= minutes <= time_entries.MAX_MINUTES:
            errors.add(f"time_entries[{n}].time_in_minutes", "time_in_minutes must be 0 to 1440")
        try:
            date.fromisoformat(str(item.get("date_performed")))
        except ValueError:
            errors.add(f"time_entries[{n}].date_performed", "date_performed must be YYYY-MM-DD")
        if len(errors.items) >= 20:
            break
    errors.raise_if_any()
    return found


def _record(
    item: dict[str, Any],
    entry_id: int,
    workspace: dict[str, Any],
    users: dict[str, Any],
    stamp: str,
) -> dict[str, Any]:
    user_id = str(item.get("user_id") or us.ME_ID)
    role_id = roles.default_role(users.get(user_id))
    rate, cost = roles.rates(role_id)
    currency = str(workspace.get("currency") or "USD")
    record = {
        "id": str(entry_id),
        "workspace_id": str(workspace["id"]),
        "user_id": user_id,
        "role_id": role_id,
        "date_performed": str(item["date_performed"]),
        "time_in_minutes": int(item["time_in_minutes"]),
        "billable": bool(item.get("billable", True)),
        "notes": str(item.get("notes") or ""),
        "rate_in_cents": rate,
        "cost_rate_in_cents": cost,
        "currency": currency,
        "currency_symbol": currency,
        "currency_base_unit": base_unit(currency),
        "approved": False,
        "taxable": False,
        "is_invoiced": False,
        "created_at": stamp,
        "updated_at": stamp,
    }
    if item.get("story_id"):
        record["story_id"] = str(item["story_id"])
    return record


def _approve(
    state: SandboxState, records: list[dict[str, Any]], stamp: str
) -> list[tuple[Any, ...]]:
    """File approved submissions per (workspace, user, week); returns their event rows."""
    groups: dict[tuple[str, str, date], list[dict[str, Any]]] = {}
    for record in records:
        day = date.fromisoformat(record["date_performed"])
        week = day - timedelta(days=day.weekday())
        groups.setdefault((record["workspace_id"], record["user_id"], week), []).append(record)
    rows: list[tuple[Any, ...]] = []
    kind = TIME()
    for (workspace_id, user_id, week), entries in groups.items():
        sid = str(state.next_id(kind.collection, start=60001))
        submission = {
            "id": sid,
            "type": kind.type_name,
            "title": f"Timesheet {week.isoformat()}",
            "workspace_id": workspace_id,
            "user_id": user_id,
            "start_date": week.isoformat(),
            "end_date": (week + timedelta(days=6)).isoformat(),
            "status": "approved",
            "comment": "",
            "currency": entries[0]["currency"],
            "entry_ids": [e["id"] for e in entries],
            "line_item_total_in_cents": sum(kind.cents(e) for e in entries),
            "current_resolution_created_at_date": stamp,
            "current_resolution_creator_id": int(us.ME_ID),
            "current_resolution_description": "bulk seed",
            "created_at": stamp,
            "updated_at": stamp,
        }
        state.put(kind.collection, sid, submission)
        shown = {k: v for k, v in submission.items() if k != "entry_ids"}
        shown[kind.ids_field] = submission["entry_ids"]
        pending = {**shown, "status": "pending"}
        rows.append(
            events.event_row(
                "timesheet_submission:created",
                kind.type_name,
                sid,
                pending,
                None,
                workspace_id,
                stamp,
            )
        )
        rows.append(
            events.event_row(
                "timesheet_submission:updated",
                kind.type_name,
                sid,
                shown,
                pending,
                workspace_id,
                stamp,
            )
        )
        for entry in entries:
            before = dict(entry)
            entry.update(approved=True, active_submission_id=sid, recent_submission_id=sid)
            rows.append(
                events.event_row(
                    "time_entry:updated",
                    "TimeEntry",
                    entry["id"],
                    time_entries.payload(entry),
                    time_entries.payload(before),
                    workspace_id,
                    stamp,
                )
            )
    return rows


def seed(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    items = (
        body.get("time_entries")
        if "time_entries" in body
        else _generate(body.get("generate") or {})
    )
    if not isinstance(items, list) or not items or len(items) > MAX_BULK:
        raise system_error(422, f"give 1 to {MAX_BULK} time_entries (or a generate spec)")
    stamp = now_iso()
    with state.transaction():
        spaces = _check(state, items)
        users = {u["id"]: u for u in state.all(us.COLLECTION)}
        first = time_entries.reserve_ids(state, len(items))
        records = [
            _record(item, first + n, spaces[str(item["workspace_id"])], users, stamp)
            for n, item in enumerate(items)
        ]
        rows = [
            events.event_row(
                "time_entry:created",
                "TimeEntry",
                r["id"],
                time_entries.payload(r),
                None,
                r["workspace_id"],
                stamp,
            )
            for r in records
        ]
        if body.get("approve"):
            rows += _approve(state, records, stamp)
        time_store.put_many(state, records)
        sql.execute_many(state, _EVENT_INSERT, rows)
    return {
        "inserted": len(records),
        "events": len(rows),
        "first_id": records[0]["id"],
        "last_id": records[-1]["id"],
    }


def install(app: FastAPI, state: SandboxState) -> None:
    def bulk_time_entries(body: dict[str, Any]) -> dict[str, Any]:
        return seed(state, body)

    app.add_api_route("/_sandbox/bulk/time_entries", bulk_time_entries, methods=["POST"])
