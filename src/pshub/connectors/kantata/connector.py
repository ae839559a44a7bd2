"""KantataConnector: the PSA port over the Kantata OX API, idempotent by external reference.

Every workspace and story pshub writes carries an ``external_reference`` with
``service_name="pshub"``, ``service_model`` (project / task / milestone) and
``service_model_ref = external_id(canonical id)``. An upsert first looks the record up by that
reference, then creates it when missing or updates only the fields that differ; a replay
therefore never creates a second workspace or story, and an unchanged replay writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from types import TracebackType
from typing import Any

from pshub.connectors.errors import TransientError
from pshub.connectors.kantata import mapping, staffing, writes
from pshub.connectors.kantata.client import KantataClient, Params
from pshub.connectors.kantata.feed import Feed
from pshub.connectors.kantata.models import (
    KantataStory,
    KantataWorkspace,
    external_references,
    results,
)
from pshub.domain.delivery import Change, ExpenseEntry, TimeEntry
from pshub.domain.ids import external_id
from pshub.domain.money import Money
from pshub.domain.projects import Project
from pshub.domain.staffing import PlannedWork
from pshub.flows.ports import PsaProjectRef

# Aliases: the class's own ``list`` method would shadow the builtin inside its body.
ChangePage = tuple[list[Change], str | None]
TimeEntries = list[TimeEntry]
Expenses = list[ExpenseEntry]
Ids = list[str]
Planned = list[PlannedWork]

BULK_STORIES = 300  # the vendor's bulk-create limit for stories


class KantataConnector:
    """Implements :class:`pshub.flows.ports.PsaPort` against ``base_url`` (no ``/api/v1``).

    ``custom_field_ids`` optionally maps ``client``, ``legal_entity`` and ``contract`` to the
    ids of the account's project custom fields that should carry those values.
    """

    system = "kantata"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        custom_field_ids: dict[str, int] | None = None,
    ) -> None:
        self._client = KantataClient(base_url, token, timeout=timeout)
        self._custom_fields = dict(custom_field_ids or {})
        self._feed = Feed(self._client)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> KantataConnector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def list(self, resource: str, **filters: str | int | bool) -> Iterator[dict[str, Any]]:
        """Every record of ``resource`` (e.g. ``"workspaces"``) matching the vendor filters."""
        return self._client.records(f"/{resource}.json", filters)

    def me(self) -> dict[str, Any]:
        """The user the token acts as (``GET /users/me``)."""
        body = self._client.request("GET", "/users/me.json")
        return next(iter((body.get("users") or {}).values()), {})

    # -- delivery: the change feed and bulk reads (see feed.py for the cursor) --

    def changes(self, after_cursor: str | None, limit: int = 200) -> ChangePage:
        """Changes after ``after_cursor`` in feed order, and the cursor to resume from."""
        return self._feed.changes(after_cursor, limit)

    def time_entries(self, ids: Sequence[str]) -> TimeEntries:
        """Current state of these time entries, fetched 200 per request by ``only=``."""
        return self._feed.time_entries(ids)

    def expenses(self, ids: Sequence[str]) -> Expenses:
        """Current state of these expenses, fetched 200 per request by ``only=``."""
        return self._feed.expenses(ids)

    # -- delivery writes (see writes.py) --

    def create_time_entry(
        self,
        workspace_id: str,
        work_date: date,
        minutes: int,
        *,
        key: str,
        story_id: str | None = None,
        user_id: str | None = None,
        billable: bool | None = None,
        notes: str | None = None,
    ) -> str:
        """Log time (demo simulation); the same ``key`` finds the entry instead of a copy."""
        return writes.create_time_entry(
            self._client,
            workspace_id,
            work_date,
            minutes,
            key=key,
            story_id=story_id,
            user_id=user_id,
            billable=billable,
            notes=notes,
        )

    def approve(self, entry_ids: Sequence[str]) -> Ids:
        """Submit and approve the entries' timesheets; returns the submission ids."""
        return writes.approve(self._client, entry_ids)

    def unapprove(self, entry_ids: Sequence[str], reason: str = "") -> Ids:
        """Reject the entries' (approved or pending) timesheets; returns the submission ids."""
        return writes.unapprove(self._client, entry_ids, reason)

    def complete_milestone(self, story_id: str) -> None:
        """Set the milestone story's state to ``completed``."""
        writes.complete_milestone(self._client, story_id)

    def create_billing_milestone(
        self, workspace_id: str, story_id: str, title: str, amount: Money, milestone_id: str
    ) -> str:
        """An upon-completion billing milestone for the story; idempotent by ``milestone_id``
        (canonical). Returns the billing milestone id."""
        return writes.create_billing_milestone(
            self._client, workspace_id, story_id, title, amount, milestone_id
        ).id

    def billing_milestone_for_story(self, story_id: str) -> str | None:
        return writes.billing_milestone_for_story(self._client, story_id)

    def set_milestone_invoice_status(
        self, billing_milestone_id: str, invoice_number: str, status: str
    ) -> None:
        """Write the ERP invoice number and status onto the billing milestone."""
        writes.set_milestone_invoice_status(
            self._client, billing_milestone_id, invoice_number, status
        )

    # -- staffing (see staffing.py) --

    def planned_work(self, workspace_ids: Sequence[str] | None = None) -> Planned:
        """Current resource assignments with the window of their work (forecast input)."""
        return staffing.planned_work(self._client, workspace_ids)

    def assign(self, story_id: str, user_id: str, estimated_minutes: int) -> str:
        """Assign a consultant to a task (idempotent: updates their current assignment)."""
        return staffing.assign(self._client, story_id, user_id, estimated_minutes)

    # -- projects --

    def upsert_project(self, project: Project, customer_name: str) -> PsaProjectRef:
        """Create or update the workspace and its task and milestone stories."""
        workspace = self._upsert_workspace(project, customer_name)
        existing = self._stories_by_ref(workspace.id)
        wanted = [(t.id, "task", mapping.task_story(t, workspace.id)) for t in project.tasks]
        wanted += [
            (m.id, "milestone", mapping.milestone_story(m, workspace.id))
            for m in project.milestones
        ]
        ids: dict[str, str] = {}
        missing = []
        for canonical, model, fields in wanted:
            current = existing.get(external_id(canonical))
            if current is None:
                missing.append((canonical, model, fields))
                continue
            changes = mapping.story_changes(current, fields)
            if changes:
                self._client.request("PUT", f"/stories/{current.id}.json", json={"story": changes})
            ids[canonical] = current.id
        ids.update(self._create_stories(missing))
        return PsaProjectRef(
            project_id=workspace.id,
            task_ids={t.id: ids[t.id] for t in project.tasks},
            milestone_ids={m.id: ids[m.id] for m in project.milestones},
        )

    def _upsert_workspace(self, project: Project, customer_name: str) -> KantataWorkspace:
        current = self._find_workspace(project.id)
        if current is None:
            fields = mapping.workspace_fields(project, customer_name, self._custom_fields)
            fields["external_reference"] = mapping.external_reference("project", project.id)
            body = self._client.request("POST", "/workspaces.json", json={"workspace": fields})
            return KantataWorkspace.model_validate(_first(body, "workspaces"))
        changes = mapping.workspace_changes(current, project, customer_name, self._custom_fields)
        if not changes:
            return current
        body = self._client.request(
            "PUT", f"/workspaces/{current.id}.json", json={"workspace": changes}
        )
        return KantataWorkspace.model_validate(_first(body, "workspaces"))

    def _find_workspace(self, project_id: str) -> KantataWorkspace | None:
        params: Params = {
            "external_reference_service_name": mapping.SERVICE_NAME,
            "external_reference_service_model": "project",
            "external_reference_service_model_refs": external_id(project_id),
            "include_archived": True,
        }
        found = [
            KantataWorkspace.model_validate(r)
            for r in self._client.records("/workspaces.json", params)
        ]
        # Two matches can only come from outside pshub; the oldest one is the original.
        return min(found, key=lambda w: int(w.id)) if found else None

    def _stories_by_ref(self, workspace_id: str) -> dict[str, KantataStory]:
        params: Params = {
            "workspace_id": workspace_id,
            "show_archived": True,
            "external_reference_service_name": mapping.SERVICE_NAME,
            "include": "external_references",
        }
        found: dict[str, KantataStory] = {}
        for body in self._client.pages("/stories.json", params):
            for record in _results(body):
                story = KantataStory.model_validate(record)
                for ref in external_references(body, record):
                    if ref.service_name == mapping.SERVICE_NAME:
                        found.setdefault(ref.service_model_ref, story)
        return found

    def _create_stories(self, missing: Sequence[tuple[str, str, dict[str, Any]]]) -> dict[str, str]:
        ids: dict[str, str] = {}
        for start in range(0, len(missing), BULK_STORIES):
            chunk = missing[start : start + BULK_STORIES]
            payload = [
                {**fields, "external_reference": mapping.external_reference(model, cid)}
                for cid, model, fields in chunk
            ]
            body = self._client.request(
                "POST",
                "/stories.json",
                params={"include": "external_references"},
                json={"stories": payload},
            )
            by_ref = {
                ref.service_model_ref: str(record["id"])
                for record in _results(body)
                for ref in external_references(body, record)
            }
            ids.update({cid: by_ref[external_id(cid)] for cid, _, _ in chunk})
        return ids


def _results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return results(body)


def _first(body: dict[str, Any], key: str) -> dict[str, Any]:
    records = _results(body)
    if not records:
        raise TransientError(f"answer carried no {key}", vendor="kantata")
    return records[0]
