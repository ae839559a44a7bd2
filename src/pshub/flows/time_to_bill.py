"""Flow ``time_to_bill``: approved time and expenses become ERP billable transactions.

    run (queue "time_to_bill", one at a time)
      for each project with pending work:  plan_project  (domain prices, ledger decides)
        -> every ``batches_per_workflow`` batches: enqueue ``time_to_bill_post`` on the
           "erp_postings" queue, so posting starts while later projects are still planned
    time_to_bill_post: one post_many step for its batches (one ERP request of up to
      ``batch_size`` lines per batch), all recorded with their ledger entries in one commit

The ERP connector shares one concurrency budget per vendor account across all flows, so the
queue can run more posting workflows than the vendor allows without being rejected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dbos import DBOS, WorkflowHandle
from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import container
from pshub.flows import billing_plan, billing_post
from pshub.flows.durable import RESULT_POLL_SECONDS, DeadLetter, enqueue, patiently, step_retry
from pshub.store import billing as repo
from pshub.store import repos

FLOW = billing_plan.FLOW
POST_FLOW = "time_to_bill_post"
POST_QUEUE = "erp_postings"


class BillingRunInput(BaseModel):
    """One billing run; ``as_of`` is the business instant (posting date, calendar)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    as_of: datetime
    projects: tuple[str, ...] | None = None  # None: every project with pending work
    wait: bool = True  # wait for the postings to finish before the run completes
    patience_seconds: float = 600.0

    @property
    def workflow_id(self) -> str:
        return f"{FLOW}:run:{self.run_id}"


class PostBatchesInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    batch_ids: tuple[str, ...]
    patience_seconds: float = 600.0


def start(inp: BillingRunInput) -> str:
    """Enqueue a billing run (a second start with the same run id is a no-op)."""
    enqueue(FLOW, time_to_bill, inp, inp.workflow_id)
    return inp.workflow_id


@DBOS.workflow(name=FLOW)
def time_to_bill(inp: BillingRunInput) -> dict[str, Any]:
    record_run(inp, "running", None)
    per_workflow, leftovers = run_settings()
    projects = list(inp.projects) if inp.projects is not None else pending_projects()
    handles = []
    waiting: list[str] = list(leftovers)  # batches a crashed earlier run planned but never sent
    totals = {"projects": len(projects), "lines": 0, "held": 0, "errors": 0, "batches": 0}
    for project in projects:
        planned = plan(project, inp.as_of, inp.run_id)
        for key in ("lines", "held", "errors"):
            totals[key] += planned[key]
        waiting.extend(planned["batch_ids"])
        while len(waiting) >= per_workflow:
            handles.append(_enqueue_posts(inp, waiting[:per_workflow]))
            waiting = waiting[per_workflow:]
    if waiting:
        handles.append(_enqueue_posts(inp, waiting))
    totals["batches"] = sum(len(h[1]) for h in handles)
    if inp.wait:
        results = [
            handle.get_result(polling_interval_sec=RESULT_POLL_SECONDS) for handle, _ in handles
        ]
        totals["posted"] = sum(r["posted"] for r in results)
        totals["rejected"] = sum(r["rejected"] for r in results)
        totals["dead_letters"] = sum(r.get("dead_letters", 0) for r in results)
    failed = totals.get("rejected", 0) or totals.get("dead_letters", 0) or totals["errors"]
    record_run(inp, "exception" if failed else "completed", totals)
    return totals


def _enqueue_posts(
    inp: BillingRunInput, batch_ids: list[str]
) -> tuple[WorkflowHandle[dict[str, Any]], list[str]]:
    child = PostBatchesInput(
        run_id=inp.run_id, batch_ids=tuple(batch_ids), patience_seconds=inp.patience_seconds
    )
    workflow_id = f"{POST_FLOW}:{batch_ids[0]}:{len(batch_ids)}"
    return enqueue(POST_QUEUE, time_to_bill_post, child, workflow_id), batch_ids


@DBOS.workflow(name=POST_FLOW)
def time_to_bill_post(inp: PostBatchesInput) -> dict[str, Any]:
    """All the workflow's batches in one step (a request per batch) and one commit, rather
    than a step checkpoint and a commit per batch; the queue runs several such workflows at
    once, which keeps the account's request slots busy."""
    batch_ids = list(inp.batch_ids)
    try:
        result = patiently(f"billing-run:{inp.run_id}", inp.patience_seconds, post_many, batch_ids)
    except DeadLetter as exc:
        dead = sum(dead_letter(inp.run_id, batch_id, str(exc)) for batch_id in batch_ids)
        return {"posted": 0, "rejected": 0, "dead_letters": dead}
    return {"posted": result["posted"], "rejected": result["rejected"], "dead_letters": 0}


# --- steps -------------------------------------------------------------------------------------


@DBOS.step(name="time_to_bill.run_settings")
def run_settings() -> tuple[int, list[str]]:
    c = container()
    with c.db.session() as s:
        leftovers = repo.open_batches(s)
    return c.policy().billing.rules.batches_per_workflow, leftovers


@DBOS.step(name="time_to_bill.record_run")
def record_run(inp: BillingRunInput, status: str, totals: dict[str, Any] | None) -> None:
    """The run as a flow run (throughput, failures and latency by workflow, in the console)."""
    with container().db.session() as s:
        if status == "running":
            repos.start_run(
                s,
                workflow_id=inp.workflow_id,
                flow=FLOW,
                correlation_id=f"billing-run:{inp.run_id}",
                inbox_id=None,
                attempt=1,
            )
            repos.audit(
                s,
                action="billing.run.started",
                correlation_id=f"billing-run:{inp.run_id}",
                as_of=inp.as_of.isoformat(),
            )
        else:
            repos.finish_run(s, inp.workflow_id, status, totals)
            repos.audit(
                s,
                action=f"billing.run.{status}",
                correlation_id=f"billing-run:{inp.run_id}",
                **(totals or {}),
            )


@DBOS.step(name="time_to_bill.pending_projects")
def pending_projects() -> list[str]:
    with container().db.session() as s:
        return sorted(repo.pending_projects(s))


@DBOS.step(name="time_to_bill.plan")
def plan(project_id: str, as_of: datetime, run_id: str = "") -> dict[str, Any]:
    with billing_plan.quiet_gc():
        result = billing_plan.plan_project(container(), project_id, as_of, run_id)
    return {
        "batch_ids": result.batch_ids,
        "lines": result.lines,
        "held": result.held,
        "errors": result.errors,
    }


@DBOS.step(name="time_to_bill.post_many")
def post_many(batch_ids: list[str]) -> dict[str, Any]:
    c = container()
    with billing_plan.quiet_gc():
        return billing_post.post_batches(c, c.erp_billing, batch_ids, step_retry())


@DBOS.step(name="time_to_bill.post_one")
def post_one(batch_id: str) -> dict[str, Any]:
    """One batch (the step of posting workflows recorded before ``post_many``)."""
    c = container()
    return billing_post.post_batch(c, c.erp_billing, batch_id, step_retry())


@DBOS.step(name="time_to_bill.dead_letter")
def dead_letter(run_id: str, batch_id: str, reason: str) -> int:
    """An exception for a batch still waiting for the ERP (1), or nothing for one posted (0)."""
    c = container()
    with c.db.session() as s:
        lines = [line for line in repo.batch_lines(s, batch_id) if line.status == "planned"]
        if not lines:
            return 0
        first = lines[0]
        repos.raise_exception(
            s,
            flow=FLOW,
            kind="dead_letter",
            correlation_id=f"billing-run:{run_id}",
            source_system="netsuite",
            source_record=f"batch:{batch_id}",
            reason_code="transient.exhausted",
            reason=reason,
            amount=None,
            legal_entity=first.legal_entity,
            findings=[{"code": "transient.exhausted", "message": reason, "batch": batch_id}],
            trigger={"flow": POST_FLOW, "input": {"run_id": run_id, "batch_ids": [batch_id]}},
        )
    return 1
