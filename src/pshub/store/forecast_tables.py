"""Forecast rows: immutable snapshots, ForecastRevised events, publications to FP&A.

Snapshots and events are append-only (database triggers refuse UPDATE and DELETE, as for the
audit log). A snapshot row keeps the whole snapshot as JSON (cells with their lineage, drivers,
findings): the forecast is re-read exactly as it was published. ``version`` is the run
history's sequence; ``snapshot_id`` is the content address from
:func:`pshub.domain.forecast.take_snapshot` (a run whose content equals the latest snapshot's
stores nothing new). Small repository functions sit here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pshub.domain.forecast import ForecastSnapshot
from pshub.domain.forecast_events import ForecastRevised
from pshub.store.tables import Base


class ForecastSnapshotRow(Base):
    __tablename__ = "forecast_snapshots"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    snapshot_id: Mapped[str] = mapped_column(String(40))
    previous_id: Mapped[str | None] = mapped_column(String(40))
    as_of_month: Mapped[str] = mapped_column(String(7))
    horizon_months: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    cells: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # ForecastSnapshot as JSON
    notes: Mapped[dict[str, Any]] = mapped_column(JSON)  # gathering findings, stand-ins used

    __table_args__ = (
        Index("ix_forecast_snapshots_id", "snapshot_id"),
        Index("ix_forecast_snapshots_as_of", "as_of_month", "version"),
    )


class ForecastEventRow(Base):
    """Canonical forecast events, in order; consumers read after the last id they saw."""

    __tablename__ = "forecast_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class ForecastPublicationRow(Base):
    """One snapshot version published to one target (Anaplan model); updated on republish."""

    __tablename__ = "forecast_publications"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    target: Mapped[str] = mapped_column(String(120), primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))  # published | partial
    task_id: Mapped[str | None] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(Integer)
    rows_imported: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"items": [{row, reason, values}]}
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    published_at: Mapped[datetime]
    error: Mapped[str | None] = mapped_column(Text)


# --- repository functions -------------------------------------------------------------------


def latest_snapshot(session: Session) -> tuple[int, ForecastSnapshot] | None:
    row = session.scalars(
        select(ForecastSnapshotRow).order_by(ForecastSnapshotRow.version.desc()).limit(1)
    ).first()
    return None if row is None else (row.version, _snapshot(row))


def load_snapshot(session: Session, ref: int | str | None = None) -> ForecastSnapshot | None:
    """By version number, by content id (its newest version), or the latest when None."""
    query = select(ForecastSnapshotRow).order_by(ForecastSnapshotRow.version.desc()).limit(1)
    if isinstance(ref, int):
        query = query.where(ForecastSnapshotRow.version == ref)
    elif ref is not None:
        query = query.where(ForecastSnapshotRow.snapshot_id == ref)
    row = session.scalars(query).first()
    return None if row is None else _snapshot(row)


def all_snapshots(session: Session) -> list[ForecastSnapshot]:
    rows = session.scalars(select(ForecastSnapshotRow).order_by(ForecastSnapshotRow.version))
    return [_snapshot(r) for r in rows]


def snapshot_rows(session: Session, limit: int = 50) -> Sequence[ForecastSnapshotRow]:
    """Newest first, for listings."""
    return session.scalars(
        select(ForecastSnapshotRow).order_by(ForecastSnapshotRow.version.desc()).limit(limit)
    ).all()


def add_snapshot(
    session: Session,
    snapshot: ForecastSnapshot,
    *,
    run_id: str,
    created_at: datetime,
    notes: dict[str, Any],
) -> None:
    session.add(
        ForecastSnapshotRow(
            version=snapshot.version,
            snapshot_id=snapshot.id,
            previous_id=snapshot.previous_id,
            as_of_month=snapshot.data.as_of_month,
            horizon_months=snapshot.data.horizon_months,
            run_id=run_id,
            created_at=created_at,
            cells=len(snapshot.data.cells),
            body=snapshot.model_dump(mode="json"),
            notes=notes,
        )
    )
    session.flush()


def notes_of(session: Session, version: int) -> dict[str, Any]:
    row = session.get(ForecastSnapshotRow, version)
    return {} if row is None else dict(row.notes)


def add_event(session: Session, event: ForecastRevised) -> bool:
    """Record the event once (by ``event_id``); False when it was already there."""
    exists = session.scalar(
        select(ForecastEventRow.id).where(ForecastEventRow.event_id == event.event_id)
    )
    if exists is not None:
        return False
    session.add(
        ForecastEventRow(
            event_id=event.event_id,
            type=event.type,
            version=event.version,
            occurred_at=event.occurred_at,
            body=event.model_dump(mode="json"),
        )
    )
    session.flush()
    return True


def events_after(session: Session, after_id: int = 0, limit: int = 100) -> list[ForecastRevised]:
    """Events recorded after ``after_id`` (a consumer's cursor), oldest first."""
    rows = session.scalars(
        select(ForecastEventRow)
        .where(ForecastEventRow.id > after_id)
        .order_by(ForecastEventRow.id)
        .limit(limit)
    )
    return [ForecastRevised.model_validate(r.body) for r in rows]


def publication(session: Session, version: int, target: str) -> ForecastPublicationRow | None:
    return session.get(ForecastPublicationRow, (version, target))


def save_publication(session: Session, **values: Any) -> ForecastPublicationRow:
    row = session.get(ForecastPublicationRow, (values["version"], values["target"]))
    if row is None:
        row = ForecastPublicationRow(attempts=1, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.attempts += 1
    session.flush()
    return row


def _snapshot(row: ForecastSnapshotRow) -> ForecastSnapshot:
    return ForecastSnapshot.model_validate(row.body)
