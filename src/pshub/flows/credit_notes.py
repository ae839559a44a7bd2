"""Flow ``credit_notes``: a credit memo returns the credited lines to re-billable.

    poll (serve loop or a caller): NetSuite credit memos changed since the cursor
      -> those against the hub's invoices kept in ``credit_notes``
      -> one ``credit_note`` workflow per (memo, version)   (queue "credit_notes")
    issue (operator: :func:`issue_credit_note`): the same workflow, which first creates the
      memo in NetSuite from the invoice (upsert by the note's canonical id) and reads it back
    credit_note: match the memo's lines to the invoice's source lines (domain) -> ledger
      invoiced -> re-billable for each line credited in full, once per memo and line
      -> invoice status (ERP) -> PSA and CRM, as payments do

A line credited in full is invoiced again by the next T&M invoicing run, exactly once
(:func:`pshub.domain.tm_invoicing.may_invoice`). A part credit or a lump sum returns nothing to
re-billable: an exception carries its amount for a person. The cursor works as the payments
poll's does (:mod:`pshub.flows.payments`): inclusive re-reads are no-ops by memo version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dbos import DBOS
from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import Container, container
from pshub.connectors.errors import ConnectorError
from pshub.connectors.retry import RetryPolicy, call_with_retry
from pshub.flows import credit_service as service
from pshub.flows.durable import DeadLetter, enqueue, patiently_for, step_retry
from pshub.flows.invoicing_ports import ErpCreditMemoDraft
from pshub.flows.payments import fetch_invoice, write_crm_status, write_psa_status
from pshub.store import credits as store
from pshub.store import invoicing as invoices
from pshub.store import repos
from pshub.store import tm_invoicing as tm_store

FLOW = service.FLOW
FEED = "netsuite:credit_memos"


class ApplyCreditNoteInput(BaseModel):
    """Apply one credit memo (``erp_id``), or issue one first (``issue`` set); add fields with
    defaults only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_id: str
    because: str  # "<erp id>@<modified>" or "issue:<canonical id>" (part of the workflow id)
    erp_id: str | None = None
    issue: ErpCreditMemoDraft | None = None
    reason: str | None = None
    patience_seconds: float = 600.0

    @property
    def workflow_id(self) -> str:
        return f"{FLOW}:{self.because}"


def start(inp: ApplyCreditNoteInput) -> str:
    enqueue(FLOW, credit_note_flow, inp, inp.workflow_id)
    return inp.workflow_id


# --- polling and issuing -----------------------------------------------------------------------


@dataclass
class CreditPoll:
    memos: int = 0
    workflows: list[str] = field(default_factory=list)
    cursor: str | None = None


def poll(c: Container, retry: RetryPolicy | None = None) -> CreditPoll:
    """Read credit memos changed since the cursor; start one workflow per new memo version
    against a hub invoice. For ``pshub serve``'s loop, beside the payments poll."""
    retry = retry or RetryPolicy(max_elapsed=c.settings.step_retry_seconds)
    with c.db.session() as s:
        cursor = store.get_cursor(s, FEED) or _first_cursor(s)
    result = CreditPoll(cursor=cursor)
    if cursor is None:
        return result
    since = datetime.fromisoformat(cursor.replace("Z", "+00:00"))
    views = call_with_retry(lambda: service.erp_credit(c).list_credit_memos(since), retry)
    starts: list[ApplyCreditNoteInput] = []
    with c.db.session() as s:
        for view in views:
            memo = service.memo_read(view)
            row, fresh = store.receive(s, memo, origin="erp")
            if row is not None and fresh:
                starts.append(_apply_input(c, row.correlation_id, memo))
        newest = max((v.last_modified for v in views), default=cursor)
        store.set_cursor(s, FEED, max(newest, cursor))
    result.memos, result.cursor = len(views), max(newest, cursor)
    result.workflows = [start(inp) for inp in starts]
    return result


def _first_cursor(s: Any) -> str | None:
    first = invoices.first_invoice_created(s)
    return None if first is None else f"{first - timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"


def _apply_input(c: Container, correlation_id: str, memo: store.MemoRead) -> ApplyCreditNoteInput:
    return ApplyCreditNoteInput(
        correlation_id=correlation_id,
        because=f"{memo.erp_id}@{memo.modified}",
        erp_id=memo.erp_id,
        patience_seconds=c.settings.outage_patience_seconds,
    )


def issue_credit_note(
    invoice_id: str,
    source_keys: Sequence[str] | None = None,
    *,
    reason: str = "credit note issued by the hub",
    day: date | None = None,
    c: Container | None = None,
) -> str:
    """Operator command: credit lines of a T&M invoice in full (None: all of them); starts
    the workflow and returns its id. Issuing the same lines again is the same workflow."""
    c = c or container()
    draft = service.issue_draft(c, invoice_id, source_keys, reason, day or repos.utcnow().date())
    with c.db.session() as s:
        invoice = invoices.get_invoice(s, invoice_id)
        assert invoice is not None
        correlation = invoice.correlation_id
    return start(
        ApplyCreditNoteInput(
            correlation_id=correlation,
            because=f"issue:{draft.canonical_id}",
            issue=draft,
            reason=reason,
            patience_seconds=c.settings.outage_patience_seconds,
        )
    )


def credit_one_for_demo(
    c: Container | None = None, reason: str = "demo: rate corrected"
) -> str | None:
    """Issue one credit note for the demo: the first line of the newest T&M invoice; the
    workflow id (wait with ``result_of``), or None when no T&M invoice exists yet."""
    c = c or container()
    with c.db.session() as s:
        made = [r for r in tm_store.tm_invoices(s) if r.erp_id is not None]
        lines = tm_store.lines_of(s, made[-1].invoice_id, "invoiced") if made else []
    if not lines:
        return None
    return issue_credit_note(made[-1].invoice_id, [lines[0].source_key], reason=reason, c=c)


def counts(c: Container | None = None) -> dict[str, Any]:
    """``credit_notes`` and ``credited_lines`` for the demo's summary."""
    c = c or container()
    with c.db.session() as s:
        return store.counts(s)


# --- the workflow ------------------------------------------------------------------------------


@DBOS.workflow(name=FLOW)
def credit_note_flow(inp: ApplyCreditNoteInput) -> dict[str, Any]:
    record_run(inp, "running", None)
    try:
        erp_id = inp.erp_id
        if inp.issue is not None:
            erp_id = patiently_for(inp, create_memo, inp.issue)
            patiently_for(inp, read_memo, erp_id, inp.reason)
        assert erp_id is not None
        result = apply(erp_id)
        invoice_erp = invoice_erp_id(result["invoice_id"])
        patiently_for(inp, fetch_invoice, inp.correlation_id, result["invoice_id"], invoice_erp)
        patiently_for(inp, write_psa_status, inp.correlation_id, result["invoice_id"])
        patiently_for(inp, write_crm_status, inp.correlation_id, result["invoice_id"])
    except DeadLetter as exc:
        return record_run(inp, "failed", {"error": str(exc), "kind": "dead_letter"})
    except ConnectorError as exc:
        return record_run(inp, "exception", {"error": str(exc), **exc.as_dict()})
    status = "exception" if result["findings"] else "completed"
    return record_run(inp, status, result)


@DBOS.step(name="credit_notes.record_run")
def record_run(
    inp: ApplyCreditNoteInput, status: str, result: dict[str, Any] | None
) -> dict[str, Any]:
    with container().db.session() as s:
        if status == "running":
            repos.begin_run(
                s,
                workflow_id=inp.workflow_id,
                flow=FLOW,
                correlation_id=inp.correlation_id,
                attempt=1,
                because=inp.because,
            )
        else:
            repos.finish_run(s, inp.workflow_id, status, result)
            repos.audit(
                s,
                action=f"credit_note.{status}",
                correlation_id=inp.correlation_id,
                because=inp.because,
                **(result or {}),
            )
    return {"status": status, **(result or {})}


@DBOS.step(name="credit_notes.create_memo")
def create_memo(draft: ErpCreditMemoDraft) -> str:
    c = container()
    return call_with_retry(lambda: service.erp_credit(c).create_credit_memo(draft), step_retry())


@DBOS.step(name="credit_notes.read_memo")
def read_memo(erp_id: str, reason: str | None) -> None:
    c = container()
    view = call_with_retry(lambda: service.erp_credit(c).get_credit_memo(erp_id), step_retry())
    with c.db.session() as s:
        store.receive(s, service.memo_read(view), origin="hub", reason=reason)


@DBOS.step(name="credit_notes.apply")
def apply(erp_id: str) -> dict[str, Any]:
    return service.apply_credit(container(), erp_id)


@DBOS.step(name="credit_notes.invoice_erp_id")
def invoice_erp_id(invoice_id: str) -> str:
    with container().db.session() as s:
        row = invoices.get_invoice(s, invoice_id)
        if row is None or row.erp_id is None:
            raise LookupError(f"invoice {invoice_id} has no ERP id")
        return row.erp_id
