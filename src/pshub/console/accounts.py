"""Console users and API clients: create and update them (for the CLI, tests and admins).

Every change is audited; an API key's secret is returned once and stored only as a hash.
"""

from __future__ import annotations

import secrets

from pshub.api.security import SCOPES, hash_api_secret, hash_password
from pshub.bootstrap import Container
from pshub.store import ops_tables, repos


def create_user(c: Container, username: str, password: str, role: str, actor: str) -> None:
    """Add or update a console user (for the CLI and the admin page); audited."""
    with c.db.session() as s:
        before = ops_tables.find_user(s, username)
        old = None if before is None else {"role": before.role}
        ops_tables.upsert_user(s, username, hash_password(password), role, repos.utcnow())
        repos.audit(
            s,
            action="user.saved",
            actor=actor,
            entity_type="user",
            entity_id=username,
            before=old,
            after={"role": role},
        )


def create_api_client(
    c: Container,
    client_id: str,
    scopes: list[str],
    *,
    actor: str,
    name: str = "",
    rate_per_minute: int = 600,
    burst: int = 60,
) -> str:
    """Register a machine client; returns its API key ``<client_id>.<secret>`` (shown once)."""
    unknown = set(scopes) - SCOPES
    if unknown or not client_id.replace("-", "").isalnum():
        raise ValueError(f"scopes: unknown {sorted(unknown)}" if unknown else "client_id: a-z0-9-")
    secret = secrets.token_urlsafe(32)
    with c.db.session() as s:
        ops_tables.add_client(
            s,
            client_id=client_id,
            secret_hash=hash_api_secret(secret),
            name=name or client_id,
            scopes=sorted(scopes),
            rate_per_minute=rate_per_minute,
            burst=burst,
            disabled=False,
            created_at=repos.utcnow(),
        )
        repos.audit(
            s,
            action="client.created",
            actor=actor,
            entity_type="api_client",
            entity_id=client_id,
            after={"scopes": sorted(scopes)},
        )
    return f"{client_id}.{secret}"
