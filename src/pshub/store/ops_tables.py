"""Rows of the operations side: console users and API clients, plus the read indexes the
console needs on the shared tables (1,000,000 audit rows, 100,000 exceptions stay fast).

The tables live on the same ``Base`` as the hub's rows so one migration history covers both.
Small repository functions for them sit here too; routes never write SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pshub.store.tables import AuditEntry, Base, BusinessException, FlowRun

ROLES = ("viewer", "operator", "admin")


class ConsoleUser(Base):
    """A person who logs in to the console. The password is stored as an scrypt hash."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # viewer | operator | admin
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ApiClient(Base):
    """A machine client: an API key and/or OAuth2 client-credentials pair, with scopes and
    its own request budget (token bucket)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    client_id: Mapped[str] = mapped_column(String(80), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(120))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    burst: Mapped[int] = mapped_column(Integer, default=60)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


# Read paths of the console over the hub's tables. Declared here (not in tables.py) so the
# console's needs stay in the console's migration; each is named after the page that uses it.
CONSOLE_INDEXES = (
    Index("ix_audit_at", AuditEntry.at),
    Index("ix_audit_actor_id", AuditEntry.actor, AuditEntry.id),
    Index("ix_audit_entity", AuditEntry.entity_type, AuditEntry.entity_id),
    Index("ix_audit_action_id", AuditEntry.action, AuditEntry.id),
    Index(
        "ix_exc_status_flow_amount",
        BusinessException.status,
        BusinessException.flow,
        BusinessException.amount_minor,
    ),
    Index(
        "ix_exc_kind_status_amount",
        BusinessException.kind,
        BusinessException.status,
        BusinessException.amount_minor,
    ),
    Index("ix_exc_entity", BusinessException.legal_entity),
    Index("ix_flow_runs_started", FlowRun.started_at),
    Index("ix_flow_runs_finished", FlowRun.finished_at),
    Index("ix_flow_runs_flow_started", FlowRun.flow, FlowRun.started_at),
)


# --- repositories ----------------------------------------------------------------------------


def find_user(session: Session, username: str) -> ConsoleUser | None:
    return session.scalars(select(ConsoleUser).where(ConsoleUser.username == username)).first()


def list_users(session: Session) -> Sequence[ConsoleUser]:
    return session.scalars(select(ConsoleUser).order_by(ConsoleUser.username)).all()


def upsert_user(
    session: Session, username: str, password_hash: str, role: str, now: datetime
) -> ConsoleUser:
    if role not in ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    row = find_user(session, username)
    if row is None:
        row = ConsoleUser(
            username=username,
            password_hash=password_hash,
            role=role,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.password_hash, row.role, row.updated_at = password_hash, role, now
    session.flush()
    return row


def find_client(session: Session, client_id: str) -> ApiClient | None:
    return session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()


def add_client(session: Session, **values: Any) -> ApiClient:
    row = ApiClient(**values)
    session.add(row)
    session.flush()
    return row
