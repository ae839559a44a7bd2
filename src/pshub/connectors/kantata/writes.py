"""Delivery writes: simulated time for the demo, approvals, milestone completion, invoice status.

Approval in Kantata is a resolution of a timesheet submission: ``approve`` files the entries
on a submission per workspace (``POST /timesheet_submissions``) and approves it (``POST
/timesheet_approvals``); ``unapprove`` rejects the entries' active submissions (``POST
/timesheet_rejections``), which clears ``approved`` and unlocks them.

Invoice status on a billing milestone: the vendor's ``invoice_id`` is read-only, so the ERP's
invoice goes into a second ``external_reference`` (service ``pshub-invoice``, model
``invoice``, ref = invoice number, ``external_status`` = status), which the billing milestones
spec accepts on update and lets a reader filter by (``external_reference_external_status``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pshub.connectors.errors import TransientError
from pshub.connectors.kantata import mapping
from pshub.connectors.kantata.client import MAX_PER_PAGE, KantataClient
from pshub.connectors.kantata.models import KantataBillingMilestone, KantataTimeEntry, results
from pshub.domain.ids import canonical_id, external_id
from pshub.domain.money import Money

INVOICE_SERVICE = "pshub-invoice"


def _first(body: dict[str, Any], what: str) -> dict[str, Any]:
    found = results(body)
    if not found:
        raise TransientError(f"answer carried no {what}", vendor="kantata")
    return found[0]


def simulation_ref(key: str) -> dict[str, str]:
    """The external reference of a simulated entry: replaying the same key finds it again."""
    return mapping.external_reference("time_entry", canonical_id("time_entry", "simulation", key))


def create_time_entry(
    client: KantataClient,
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
    """Log time (the demo's consultants); idempotent by ``key``. Returns the entry id."""
    ref = simulation_ref(key)
    found = results(
        client.request(
            "GET",
            "/time_entries.json",
            params={
                "external_reference_service_name": ref["service_name"],
                "external_reference_service_model_refs": ref["service_model_ref"],
                "from_archived_workspaces": True,
            },
        )
    )
    if found:
        return str(found[0]["id"])
    fields: dict[str, Any] = {
        "workspace_id": int(workspace_id),
        "date_performed": work_date.isoformat(),
        "time_in_minutes": minutes,
        "external_reference": ref,
    }
    optional = {"story_id": story_id, "user_id": user_id}
    fields.update({k: int(v) for k, v in optional.items() if v is not None})
    if billable is not None:
        fields["billable"] = billable
    if notes is not None:
        fields["notes"] = notes
    body = client.request("POST", "/time_entries.json", json={"time_entry": fields})
    return str(_first(body, "time_entries")["id"])


def _entries(client: KantataClient, ids: Sequence[str]) -> list[KantataTimeEntry]:
    out: list[KantataTimeEntry] = []
    for start in range(0, len(ids), MAX_PER_PAGE):
        chunk = ids[start : start + MAX_PER_PAGE]
        body = client.request(
            "GET",
            "/time_entries.json",
            params={
                "only": ",".join(chunk),
                "include": "active_submission",
                "from_archived_workspaces": True,
                "per_page": MAX_PER_PAGE,
            },
        )
        out += [KantataTimeEntry.model_validate(r) for r in results(body)]
    return out


def approve(client: KantataClient, entry_ids: Sequence[str]) -> list[str]:
    """Submit the not-yet-submitted entries per workspace and approve every pending
    submission they are on. Returns the approved submission ids."""
    entries = _entries(client, [str(i) for i in entry_ids])
    pending = {e.active_submission_id for e in entries if e.active_submission_id and not e.approved}
    loose: dict[str, list[int]] = {}
    for entry in entries:
        if entry.active_submission_id is None:
            loose.setdefault(entry.workspace_id, []).append(int(entry.id))
    for workspace_id, ids in loose.items():
        body = client.request(
            "POST",
            "/timesheet_submissions.json",
            json={
                "timesheet_submission": {"workspace_id": int(workspace_id), "time_entry_ids": ids}
            },
        )
        pending.add(str(_first(body, "timesheet_submissions")["id"]))
    return _resolve(client, "/timesheet_approvals.json", sorted(p for p in pending if p))


def unapprove(client: KantataClient, entry_ids: Sequence[str], reason: str = "") -> list[str]:
    """Reject the submissions the entries are on (approved or pending): un-approves them."""
    entries = _entries(client, [str(i) for i in entry_ids])
    active = sorted({e.active_submission_id for e in entries if e.active_submission_id})
    return _resolve(client, "/timesheet_rejections.json", active, reason)


def _resolve(
    client: KantataClient, path: str, submission_ids: list[str], note: str = ""
) -> list[str]:
    if not submission_ids:
        return []
    resolution = {"submission_ids": [int(s) for s in submission_ids], "description": note}
    body = client.request("POST", path, json={"resolution": resolution})
    return [str(r["target_id"]) for r in body.get("resolutions") or []]


def complete_milestone(client: KantataClient, story_id: str) -> dict[str, Any]:
    """Mark the milestone story completed (emits ``story:updated`` in the feed)."""
    body = client.request(
        "PUT", f"/stories/{story_id}.json", json={"story": {"state": "completed"}}
    )
    return _first(body, "stories")


def create_billing_milestone(
    client: KantataClient,
    workspace_id: str,
    story_id: str,
    title: str,
    amount: Money,
    milestone_canonical_id: str,
) -> KantataBillingMilestone:
    """A billing milestone invoiced upon completion of ``story_id``; idempotent by the
    milestone's canonical id."""
    ref = mapping.external_reference("billing_milestone", milestone_canonical_id)
    found = results(
        client.request(
            "GET",
            "/billing_milestones.json",
            params={
                "workspace_ids": workspace_id,
                "external_reference_service_name": ref["service_name"],
                "external_reference_service_model_refs": external_id(milestone_canonical_id),
            },
        )
    )
    if found:
        return KantataBillingMilestone.model_validate(found[0])
    fields = {
        "workspace_id": int(workspace_id),
        "story_id": int(story_id),
        "title": title,
        "amount_in_cents": mapping.to_cents(amount),
        "billing_type": "upon_completion",
        "external_reference": ref,
    }
    body = client.request("POST", "/billing_milestones.json", json={"billing_milestone": fields})
    return KantataBillingMilestone.model_validate(_first(body, "billing_milestones"))


def billing_milestone_for_story(client: KantataClient, story_id: str) -> str | None:
    body = client.request("GET", "/billing_milestones.json", params={"story_ids": story_id})
    found = results(body)
    return str(found[0]["id"]) if found else None


def set_milestone_invoice_status(
    client: KantataClient, billing_milestone_id: str, invoice_number: str, status: str
) -> None:
    """Record the ERP invoice (number and status) on the billing milestone."""
    ref = {
        "service_name": INVOICE_SERVICE,
        "service_model": "invoice",
        "service_model_ref": invoice_number,
        "external_status": status,
        "external_message": f"Invoice {invoice_number}: {status}",
        "status": "successful",
    }
    client.request(
        "PUT",
        f"/billing_milestones/{billing_milestone_id}.json",
        json={"billing_milestone": {"external_reference": ref}},
    )
