"""The account's roles (``Role`` in the vendor OpenAPI: ``name``, timestamps) and their rates.

Each seeded user has a default role taken from their headline; a time entry without
``role_id`` gets its user's default role ("The ID of the default Role or user assigned Role
for the time entry"), and its bill and cost rates when none are given.
"""

from __future__ import annotations

from typing import Any

from pshub.sandboxes.base import SandboxState

COLLECTION = "roles"
# id -> (name, bill rate in cents per hour, cost rate in cents per hour)
ROLES: dict[str, tuple[str, int, int]] = {
    "301": ("Engagement Manager", 25000, 11000),
    "302": ("Senior Consultant", 20000, 9000),
    "303": ("Consultant", 15000, 7000),
    "304": ("Solution Architect", 22000, 10000),
}
_BY_HEADLINE = {name: rid for rid, (name, _, _) in ROLES.items()}
_STAMP = "2025-01-01T00:00:00+00:00"


def seed_roles(state: SandboxState) -> None:
    if state.count(COLLECTION):
        return
    for rid, (name, _, _) in ROLES.items():
        state.put(
            COLLECTION, rid, {"id": rid, "name": name, "created_at": _STAMP, "updated_at": _STAMP}
        )


def default_role(user: dict[str, Any] | None) -> str:
    """The role a user's time is booked under by default (administrators manage engagements)."""
    headline = str((user or {}).get("headline", ""))
    return _BY_HEADLINE.get(headline, "301")


def rates(role_id: str) -> tuple[int, int]:
    _, bill, cost = ROLES.get(role_id, ROLES["303"])
    return bill, cost


def load(state: SandboxState, ids: list[str]) -> list[dict[str, Any]]:
    return [r for i in ids if (r := state.get(COLLECTION, i)) is not None]
