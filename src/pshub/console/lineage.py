"""Lineage of one deal (or any correlation id): every record it touched, in business order
(opportunity -> project -> time entries -> billing events -> invoices -> payments ->
journals), with each record's id in every system, the runs and the hops.

Generic: the records are whatever the audit trail names; records of *other* correlations that
touch the same records (e.g. a billing flow on the deal's project) are pulled in one hop out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from pshub.store import repos
from pshub.store.tables import AuditEntry, CrossReference, FlowRun

# Business order of entity types; types not listed follow, alphabetically.
STAGES = (
    "opportunity",
    "account",
    "contract",
    "project",
    "task",
    "milestone",
    "time_entry",
    "expense",
    "billing_event",
    "invoice",
    "payment",
    "revenue",
    "journal",
    "forecast",
)
MAX_HOPS = 2000
MAX_RELATED = 50


@dataclass
class Record:
    entity_type: str
    entity_id: str
    ids: dict[str, str] = field(default_factory=dict)
    correlations: set[str] = field(default_factory=set)


@dataclass
class Lineage:
    correlation_id: str
    records: list[Record]
    runs: list[FlowRun]
    hops: list[AuditEntry]
    related: list[str]

    def stages(self) -> list[tuple[str, list[Record]]]:
        order = {name: i for i, name in enumerate(STAGES)}
        groups: dict[str, list[Record]] = {}
        for r in self.records:
            groups.setdefault(r.entity_type, []).append(r)
        keys = sorted(groups, key=lambda k: (order.get(k, len(STAGES)), k))
        return [(k, groups[k]) for k in keys]


def resolve_correlation(s: Session, query: str) -> str | None:
    """A correlation id, a source record id (e.g. an opportunity id) or any system's id."""
    query = query.strip()
    if not query:
        return None
    for candidate in (query, f"deal:salesforce:{query}"):
        if s.scalar(select(FlowRun.workflow_id).where(FlowRun.correlation_id == candidate)):
            return candidate
        if s.scalar(select(AuditEntry.id).where(AuditEntry.correlation_id == candidate).limit(1)):
            return candidate
    found = s.scalar(
        select(AuditEntry.correlation_id)
        .where(
            AuditEntry.correlation_id.is_not(None),
            or_(AuditEntry.system_id == query, AuditEntry.entity_id == query),
        )
        .limit(1)
    )
    if found:
        return found
    xref = s.scalars(select(CrossReference).where(CrossReference.system_id == query)).first()
    if xref is None:
        return None
    return s.scalar(
        select(AuditEntry.correlation_id).where(
            AuditEntry.entity_type == xref.entity_type,
            AuditEntry.entity_id == xref.canonical_id,
            AuditEntry.correlation_id.is_not(None),
        )
    )


def lineage(s: Session, correlation_id: str) -> Lineage:
    hops = list(repos.audit_trail(s, correlation_id)[:MAX_HOPS])
    records: dict[tuple[str, str], Record] = {}
    # Hops naming their record first, so a hop naming only a system id joins that record.
    for h in sorted(hops, key=lambda h: h.entity_id is None):
        _note(records, h, correlation_id)
    related = _related(s, records, correlation_id)
    for other in related:
        for h in repos.audit_trail(s, other)[:MAX_HOPS]:
            _note(records, h, other)
    _system_ids(s, records)
    runs = [r for cid in [correlation_id, *related] for r in repos.runs_for(s, cid)]
    return Lineage(correlation_id, list(records.values()), runs, hops, related)


def _note(records: dict[tuple[str, str], Record], h: AuditEntry, cid: str) -> None:
    if not h.entity_type or not (h.entity_id or h.system_id):
        return
    if h.entity_id is None:
        for known in records.values():
            if known.entity_type == h.entity_type and h.system_id in known.ids.values():
                known.correlations.add(cid)
                return
    key = (h.entity_type, h.entity_id or f"{h.system}:{h.system_id}")
    record = records.setdefault(key, Record(*key))
    record.correlations.add(cid)
    if h.system and h.system_id:
        record.ids.setdefault(h.system, h.system_id)


def _related(s: Session, records: dict[tuple[str, str], Record], cid: str) -> list[str]:
    keys = [k for k in records if ":" not in k[1] or k[0] != "opportunity"]
    if not keys:
        return []
    found = s.scalars(
        select(AuditEntry.correlation_id)
        .where(
            tuple_(AuditEntry.entity_type, AuditEntry.entity_id).in_(keys[:500]),
            AuditEntry.correlation_id.is_not(None),
            AuditEntry.correlation_id != cid,
        )
        .distinct()
        .limit(MAX_RELATED)
    ).all()
    return sorted(c for c in found if c)


def _system_ids(s: Session, records: dict[tuple[str, str], Record]) -> None:
    keys = list(records)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = s.scalars(
            select(CrossReference).where(
                tuple_(CrossReference.entity_type, CrossReference.canonical_id).in_(chunk)
            )
        ).all()
        for xr in rows:
            records[(xr.entity_type, xr.canonical_id)].ids[xr.system] = xr.system_id


def as_dict(lin: Lineage) -> dict[str, Any]:
    return {
        "correlation_id": lin.correlation_id,
        "related": lin.related,
        "stages": [
            {
                "entity_type": name,
                "records": [
                    {"id": r.entity_id, "ids": r.ids, "correlations": sorted(r.correlations)}
                    for r in recs
                ],
            }
            for name, recs in lin.stages()
        ],
    }
