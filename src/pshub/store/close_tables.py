"""Rows of the month-end close: runs, per-contract results, journals, reopenings.

The per-contract detail stays in the hub (``close_contract_results``); the ERP gets only the
aggregated journals (``close_journals``, one per entity, period, currency and entry kind).
Money columns are exact decimals beside their currency.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pshub.store.tables import Base


class CloseRun(Base):
    """One close of one legal entity and period (a re-close after a reopen is a new run)."""

    __tablename__ = "close_runs"

    workflow_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    legal_entity: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))  # computed | posted | locked | exception
    contracts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_close_runs_entity_period", "legal_entity", "period"),)


class CloseContractResult(Base):
    """The engine's figures for one contract at the end of a closed period."""

    __tablename__ = "close_contract_results"

    legal_entity: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(String(80))
    billing_model: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    revenue: Mapped[Decimal]
    cumulative_revenue: Mapped[Decimal]
    billed: Mapped[Decimal]
    cumulative_billed: Mapped[Decimal]
    cumulative_collected: Mapped[Decimal]
    receivable: Mapped[Decimal]
    contract_asset: Mapped[Decimal]
    contract_liability: Mapped[Decimal]
    transaction_price: Mapped[Decimal]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # entries, findings, sources
    workflow_id: Mapped[str] = mapped_column(String(200))


class CloseJournal(Base):
    """An aggregated, balanced journal of a close, and where it stands in the ERP."""

    __tablename__ = "close_journals"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)  # close:US:2026-10:USD:revenue
    canonical_id: Mapped[str] = mapped_column(String(80))
    legal_entity: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(20))  # revenue | billing | collection
    total_debit: Mapped[Decimal]
    total_credit: Mapped[Decimal]
    lines: Mapped[dict[str, Any]] = mapped_column(JSON)
    contracts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # planned | posted
    erp_id: Mapped[str | None] = mapped_column(String(80))
    workflow_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_close_journals_entity_period", "legal_entity", "period"),)


class CloseReopen(Base):
    """An operator's reopening of a closed period (why, who, when); append-only."""

    __tablename__ = "close_reopens"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    legal_entity: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    reopened_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]

    __table_args__ = (Index("ix_close_reopens_entity_period", "legal_entity", "period"),)
