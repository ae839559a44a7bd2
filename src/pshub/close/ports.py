"""What the close needs of the ERP: post a balanced journal (upsert by the canonical id).

:class:`ErpJournalDraft` has the shape of the NetSuite connector's own ``JournalDraft``, so
its ``post_journal`` takes it as is; flows never import a connector (the layer rule).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ErpJournalLine(BaseModel):
    """One side of a journal: exactly one of ``debit`` and ``credit`` is set."""

    model_config = _FROZEN

    account_id: str
    debit: Money | None = None
    credit: Money | None = None
    memo: str | None = None
    entity_id: str | None = None


class ErpJournalDraft(BaseModel):
    model_config = _FROZEN

    canonical_id: str
    subsidiary_id: str
    currency: str
    tran_date: date
    lines: tuple[ErpJournalLine, ...]
    memo: str | None = None
    posting_period_id: str | None = None
    pending_approval: bool = False


class ErpJournalPort(Protocol):
    def post_journal(self, draft: ErpJournalDraft) -> str:
        """Create or update the journal keyed by the draft's canonical id; its ERP id."""
        ...
