"""External references: how an integration ties its own ids to Kantata OX records.

Per the vendor OpenAPI (``ExternalReference`` schema; ``external_reference`` object on
workspace/story create and update; ``external_reference_*`` and ``has_external_references``
list filters): a reference belongs to one subject (``subject_type`` + ``subject_id``) and is
unique per ``service_name`` on that subject, so sending a reference again with the same
``service_name`` updates it in place. The list filters given together must all match the
same reference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata.envelope import csv, now_iso, parse_bool
from pshub.sandboxes.kantata.errors import FieldErrors

COLLECTION = "external_references"
STATUSES = ("successful", "pending", "failed")
_REQUIRED = ("service_name", "service_model", "service_model_ref")
_OPTIONAL = ("external_message", "external_link", "external_status", "locked")

RefIndex = dict[tuple[str, str], list[dict[str, Any]]]


def check(errors: FieldErrors, body: Mapping[str, Any]) -> None:
    """Validate the nested ``external_reference`` object of a create or update."""
    ref = body.get("external_reference")
    if ref is None:
        return
    if not isinstance(ref, dict):
        errors.add("external_reference", "external_reference must be an object")
        return
    for name in _REQUIRED:
        value = ref.get(name)
        if value is None or not str(value).strip():
            errors.add(f"external_reference.{name}", f"{name} can't be blank")
    status = ref.get("status")
    if status is not None and status not in STATUSES:
        errors.add("external_reference.status", f"status must be one of: {', '.join(STATUSES)}")


def attach(
    state: SandboxState, subject_type: str, subject_id: str, ref: Mapping[str, Any] | None
) -> None:
    """Create the subject's reference for this service, or update the one it has."""
    if ref is None:
        return
    existing = [
        r
        for r in state.find(COLLECTION, subject_type=subject_type, subject_id=int(subject_id))
        if r["service_name"] == ref["service_name"]
    ]
    stamp = now_iso()
    if existing:
        record = existing[0]
    else:
        new_id = str(state.next_id(COLLECTION, start=7001))
        record = {
            "id": new_id,
            "subject_type": subject_type,
            "subject_id": int(subject_id),
            "created_at": stamp,
            "status": "successful",
        }
    for name in (*_REQUIRED, "status", *_OPTIONAL):
        if name in ref and ref[name] is not None:
            record[name] = str(ref[name]) if name in _REQUIRED else ref[name]
    record["updated_at"] = record["last_synced_at"] = stamp
    state.put(COLLECTION, record["id"], record)


def index(state: SandboxState, subject_type: str) -> RefIndex:
    """All references of one subject type, grouped by (subject_type, subject id)."""
    grouped: RefIndex = defaultdict(list)
    for ref in state.find(COLLECTION, subject_type=subject_type):
        grouped[(subject_type, str(ref["subject_id"]))].append(ref)
    return grouped


_EQUALS = {
    "external_reference_service_name": "service_name",
    "external_reference_service_model": "service_model",
    "external_reference_service_model_ref": "service_model_ref",
    "external_reference_status": "status",
    "external_reference_external_status": "external_status",
    "external_reference_external_message": "external_message",
}


def _ref_matches(ref: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    for param, attr in _EQUALS.items():
        if param in query and str(ref.get(attr)) != query[param]:
            return False
    refs = csv(query.get("external_reference_service_model_refs"))
    return not refs or str(ref.get("service_model_ref")) in refs


def matches(refs: list[dict[str, Any]], query: Mapping[str, str]) -> bool:
    """Whether a record with these references passes the external-reference filters."""
    has = parse_bool(query.get("has_external_references"))
    if has is not None and has != bool(refs):
        return False
    without = query.get("without_external_reference_service_name")
    if without and any(r["service_name"] == without for r in refs):
        return False
    wants_ref = any(p in query for p in (*_EQUALS, "external_reference_service_model_refs"))
    return not wants_ref or any(_ref_matches(r, query) for r in refs)
