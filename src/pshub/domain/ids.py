"""Canonical and external ids: deterministic, so a redelivered event finds the same record."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1d8a52-3c4b-4e7a-9d2f-5b8c0e1a7f30")

PREFIXES: dict[str, str] = {
    "account": "acc",
    "opportunity": "opp",
    "contract": "ctr",
    "project": "prj",
    "task": "tsk",
    "milestone": "mst",
    "time_entry": "tim",
    "expense": "exp",
    "invoice": "inv",
    "payment": "pay",
    "journal": "jnl",
    "credit_note": "crn",
    "event": "evt",
}


def canonical_id(kind: str, *source: str) -> str:
    """Stable canonical id for a record of ``kind`` first seen as ``source`` (system, id...)."""
    if kind not in PREFIXES:
        raise ValueError(f"kind: unknown canonical kind {kind!r}")
    digest = uuid.uuid5(_NAMESPACE, "|".join((kind, *source))).hex[:20]
    return f"{PREFIXES[kind]}_{digest}"


def external_id(canonical: str) -> str:
    """The id pshub writes into a vendor record so that a replayed write updates it."""
    return f"PSHUB-{canonical}"
