"""Reading delivery from Kantata OX: the change feed and bulk fetch of time entries and expenses.

The feed is ``GET /subscribed_events``. The hub pages it by event id, never by time: the
cursor is the id of the last event handed out, and the next page asks for the ids after it
with ``only=<cursor+1>,...,<cursor+limit>`` (a documented filter), ``order=created_at:asc``.
Events written in one second are therefore all seen, each once, in id order. When a whole id
range is empty, one ``order=created_at:desc&per_page=1`` probe tells whether later events
exist (a gap, which the cursor jumps) or the feed is simply drained (the cursor stays).
``created_after``/``created_before`` exist in the vendor API but are not used for paging:
one-second timestamps cannot order events written in the same second.

Assumption: event ids become visible in increasing order (true of the sandbox, which writes an
event in the transaction of its change and serialises transactions). The vendor documents that
events "may be generated out of order"; against the real API a reader should re-read a short
trailing window of ids and drop the ones it has seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pshub.connectors.kantata import delivery_mapping as dm
from pshub.connectors.kantata.client import MAX_PER_PAGE, KantataClient
from pshub.connectors.kantata.models import (
    KantataEvent,
    KantataExpense,
    KantataSubmission,
    KantataTimeEntry,
    results,
)
from pshub.domain.delivery import Change, ExpenseEntry, TimeEntry

PAYLOADS = "current_payload,previous_payload"


def _ids(values: Iterable[str | int]) -> str:
    return ",".join(str(v) for v in values)


def _chunks(ids: Sequence[str], size: int = MAX_PER_PAGE) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class Feed:
    """Change feed and bulk reads over one client; remembers role names it has seen."""

    def __init__(self, client: KantataClient) -> None:
        self._client = client
        self._roles: dict[str, str] = {}

    def changes(
        self, after_cursor: str | None, limit: int = 200
    ) -> tuple[list[Change], str | None]:
        """Changes after ``after_cursor`` (None: from the start), at most ``limit``, in order,
        and the cursor to pass next time (unchanged when nothing new has been written)."""
        size = max(1, min(limit, MAX_PER_PAGE))
        start = int(after_cursor) if after_cursor else 0
        body = self._client.request(
            "GET",
            "/subscribed_events.json",
            params={
                "only": _ids(range(start + 1, start + size + 1)),
                "order": "created_at:asc",
                "per_page": size,
                "optional_fields": PAYLOADS,
            },
        )
        events = sorted(
            (KantataEvent.model_validate(r) for r in results(body)), key=lambda e: int(e.id)
        )
        if not events:
            return [], self._past_gap(start, size, after_cursor)
        self._learn_roles(events)
        found = [c for e in events if (c := dm.change(e, self._roles)) is not None]
        return found, events[-1].id

    def _past_gap(self, start: int, size: int, after_cursor: str | None) -> str | None:
        body = self._client.request(
            "GET", "/subscribed_events.json", params={"order": "created_at:desc", "per_page": 1}
        )
        latest = max((int(r["id"]) for r in results(body)), default=0)
        return str(start + size) if latest > start + size else after_cursor

    def _learn_roles(self, events: Sequence[KantataEvent]) -> None:
        """Role names for the entries' ``role_id``s not seen yet (one request when needed)."""
        wanted: dict[str, str] = {}
        for event in events:
            if event.subject_type == "TimeEntry" and event.action != "deleted":
                role = event.payload().get("role_id")
                if role and str(role) not in self._roles:
                    wanted.setdefault(str(role), str(event.subject_id))
        if wanted:
            self._fetch_entries(list(wanted.values()))

    def _fetch_entries(self, ids: Sequence[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        body = self._client.request(
            "GET",
            "/time_entries.json",
            params={
                "only": _ids(ids),
                "include": "role,active_submission",
                "from_archived_workspaces": True,
                "per_page": MAX_PER_PAGE,
            },
        )
        for role in (body.get("roles") or {}).values():
            self._roles[str(role["id"])] = str(role.get("name") or "")
        return results(body), body

    def _versions(self, subject_type: str, ids: Sequence[str]) -> dict[str, int]:
        """The id of each subject's most recent event: its current version."""
        body = self._client.request(
            "GET",
            "/subscribed_events.json",
            params={
                "subject_type": subject_type,
                "subject_id": _ids(ids),
                "most_recent": True,
                "per_page": MAX_PER_PAGE,
            },
        )
        return {str(r["subject_id"]): int(r["id"]) for r in results(body)}

    def time_entries(self, ids: Sequence[str]) -> list[TimeEntry]:
        """Current state of these entries in the order asked (missing ids are left out),
        200 per request.

        Versions are read before the records, so a change in between can only make the
        record newer than its version, never older."""
        out: dict[str, TimeEntry] = {}
        wanted = [str(i) for i in ids]
        for chunk in _chunks(wanted):
            versions = self._versions("TimeEntry", chunk)
            records, body = self._fetch_entries(chunk)
            subs = _submissions(body, "timesheet_submissions")
            for record in records:
                entry = KantataTimeEntry.model_validate(record)
                out[entry.id] = dm.time_entry(
                    entry,
                    version=versions.get(entry.id, 0),
                    role=self._roles.get(entry.role_id or ""),
                    approved_at=dm.approved_at(subs.get(entry.active_submission_id or "")),
                )
        return [out[i] for i in wanted if i in out]

    def expenses(self, ids: Sequence[str]) -> list[ExpenseEntry]:
        """Current state of these expenses in the order asked (missing ids are left out),
        200 per request."""
        out: dict[str, ExpenseEntry] = {}
        wanted = [str(i) for i in ids]
        for chunk in _chunks(wanted):
            versions = self._versions("Expense", chunk)
            body = self._client.request(
                "GET",
                "/expenses.json",
                params={
                    "only": _ids(chunk),
                    "include": "active_submission",
                    "per_page": MAX_PER_PAGE,
                },
            )
            subs = _submissions(body, "expense_report_submissions")
            for record in results(body):
                exp = KantataExpense.model_validate(record)
                sub = subs.get(exp.active_submission_id or "")
                approved = sub is not None and sub.status == "approved"
                out[exp.id] = dm.expense(
                    exp,
                    version=versions.get(exp.id, 0),
                    approved=approved,
                    approved_at=dm.approved_at(sub),
                )
        return [out[i] for i in wanted if i in out]


def _submissions(body: Mapping[str, Any], key: str) -> dict[str, KantataSubmission]:
    loaded = body.get(key) or {}
    return {str(k): KantataSubmission.model_validate(v) for k, v in loaded.items()}
