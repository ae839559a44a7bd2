"""What the close needs of the ERP: post a balanced journal (upsert by the canonical id).

The types live with the other ports (:mod:`pshub.flows.ports`); the NetSuite connector's
``post_journal`` takes them as they are.
"""

from __future__ import annotations

from pshub.flows.ports import ErpJournalDraft, ErpJournalLine, ErpJournalPort

__all__ = ["ErpJournalDraft", "ErpJournalLine", "ErpJournalPort"]
