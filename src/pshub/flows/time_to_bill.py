"""Flow ``time_to_bill``: approved time and expenses become ERP billable transactions.

    run (queue "time_to_bill", one at a time)
      project_lanes: projects with pending work, largest first, and how many posting
        workflows bill them: one per 1,000 entries up to as many as the queue runs at once
      -> that many ``time_to_bill_post`` workflows: the first as a child workflow of the
         run, the others on the "erp_postings" queue meanwhile; the run waits for them all
    time_to_bill_post: claim the next project no workflow of the run has taken, then one
      ``bill`` step for it: plan in memory, post the lines in requests of up to
      ``batch_size``, record everything per slice; again until every project is taken

A project is never split (its not-to-exceed cap is decided in one place). The workflows take
projects as they go rather than getting fixed groups, so they finish within about one project
of each other (decision 0014). Nothing is stored between planning and the ERP's answer
(decision 0010): a crash re-plans the same lines under the same external ids, which the ERP
upserts. The ERP connector shares one concurrency budget per vendor account across all flows,
so the queue can run more posting workflows than the vendor allows without being rejected.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from dbos import DBOS, WorkflowHandle
from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import QUEUES, container, quiet_queues
from pshub.flows import billing_plan, billing_post
from pshub.flows.durable import DeadLetter, enqueue, patiently, step_retry
from pshub.store import billing as repo
from pshub.store import repos

FLOW = billing_plan.FLOW
POST_FLOW = "time_to_bill_post"
POST_QUEUE = "erp_postings"
log = logging.getLogger("pshub.time_to_bill")
LANE_POLL_SECONDS = 0.05
COUNTS = ("lines", "held", "errors", "batches", "posted", "rejected", "dead_letters")


class BillingRunInput(BaseModel):
    """One billing run; ``as_of`` is the business instant (posting date, calendar)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    as_of: datetime
    projects: tuple[str, ...] | None = None  # None: every project with pending work
    patience_seconds: float = 600.0

    @property
    def workflow_id(self) -> str:
        return f"{FLOW}:run:{self.run_id}"


class BillProjectsInput(BaseModel):
    """One posting workflow of a run: it claims the run's ``projects`` (in that order) one at
    a time with the run's other posting workflows (``lane`` names it in its workflow id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    as_of: datetime
    projects: tuple[str, ...]
    lane: int = 0
    patience_seconds: float = 600.0


def start(inp: BillingRunInput) -> str:
    """Enqueue a billing run (a second start with the same run id is a no-op)."""
    enqueue(FLOW, time_to_bill, inp, inp.workflow_id)
    return inp.workflow_id


@DBOS.workflow(name=FLOW)
def time_to_bill(inp: BillingRunInput) -> dict[str, Any]:
    record_run(inp, "running", None)
    projects, lanes = project_lanes(list(inp.projects) if inp.projects is not None else None)
    # A run too big for one posting workflow (month-end) quiets the other queues' polling
    # while it drains (decision 0011); a small run changes nothing.
    quiet = lanes > 1 and quiet_polling(True)
    try:
        # The first lane runs here as a child workflow, the others on the queue meanwhile:
        # a small run (one lane) waits for no queue poll.
        handles = [_enqueue_lane(inp, projects, n) for n in range(1, lanes)]
        results = [time_to_bill_post(_lane_input(inp, projects, 0))] if projects else []
        # Checked every 50 ms: a check is one small read of the system database, which does
        # not hold up the lanes' writes (WAL), while checking every 0.25 s left the run
        # waiting ~0.1 s after its last lane on average (2 % of a 100,000-entry drain).
        results += [h.get_result(polling_interval_sec=LANE_POLL_SECONDS) for h in handles]
    finally:
        if quiet:
            quiet_polling(False)
    totals: dict[str, Any] = {"projects": len(projects)} | dict.fromkeys(COUNTS, 0)
    for result in results:
        for key in COUNTS:
            totals[key] += result.get(key, 0)
    failed = totals["rejected"] or totals["dead_letters"] or totals["errors"]
    record_run(inp, "exception" if failed else "completed", totals)
    return totals


def _lane_input(inp: BillingRunInput, projects: list[str], lane: int) -> BillProjectsInput:
    return BillProjectsInput(
        run_id=inp.run_id,
        as_of=inp.as_of,
        projects=tuple(projects),
        lane=lane,
        patience_seconds=inp.patience_seconds,
    )


def _enqueue_lane(
    inp: BillingRunInput, projects: list[str], lane: int
) -> WorkflowHandle[dict[str, Any]]:
    child = _lane_input(inp, projects, lane)
    return enqueue(POST_QUEUE, time_to_bill_post, child, f"{POST_FLOW}:{inp.run_id}:{lane}")


@DBOS.workflow(name=POST_FLOW)
def time_to_bill_post(inp: BillProjectsInput) -> dict[str, Any]:
    """Claim a project, bill it in one step (a checkpoint and a commit per slice), and again
    until the run's projects are all taken; an ERP outage is waited out durably, and past
    the run's patience the projects this workflow still claims become exceptions."""
    totals = dict.fromkeys(COUNTS, 0)
    gave_up: str | None = None
    seq = 0
    while (project := claim(inp.run_id, seq, list(inp.projects))) is not None:
        seq += 1
        if gave_up is None:
            try:
                result = patiently(
                    f"billing-run:{inp.run_id}",
                    inp.patience_seconds,
                    bill,
                    project,
                    inp.as_of,
                    inp.run_id,
                )
            except DeadLetter as exc:
                gave_up = str(exc)
        if gave_up is not None:
            totals["dead_letters"] += dead_letter(inp.run_id, project, gave_up)
            continue
        for key, value in result.items():
            totals[key] += value
    return totals


# --- steps -------------------------------------------------------------------------------------


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
            # Every posting workflow has returned: no claim step of the run runs again.
            repo.release_claims(s, inp.run_id)
            repos.audit(
                s,
                action=f"billing.run.{status}",
                correlation_id=f"billing-run:{inp.run_id}",
                **(totals or {}),
            )


@DBOS.step(name="time_to_bill.quiet_polling")
def quiet_polling(quiet: bool) -> bool:
    """The other queues poll every ``quiet_polling_seconds`` while a big run drains (True),
    or as configured again (False); returns whether they were quieted."""
    seconds = container().settings.quiet_polling_seconds
    if quiet and not seconds:
        return False
    changed = quiet_queues(seconds if quiet else None)
    log.info(
        "billing run %s: %s queues poll %s",
        "draining" if quiet else "done",
        len(changed),
        f"every {seconds} s" if quiet else "as configured",
    )
    return quiet


@DBOS.step(name="time_to_bill.project_lanes")
def project_lanes(projects: list[str] | None) -> tuple[list[str], int]:
    """Projects with work to consider (all, or those named), largest first, and how many
    posting workflows claim them: one per ``batch_size x batches_per_workflow`` entries (a
    small run is one, billed inside the run), up to as many as the queue runs at once."""
    c = container()
    rules = c.policy().billing.rules
    with c.db.session() as s:
        counts = repo.pending_counts(s)
    wanted = sorted(counts) if projects is None else sorted({p for p in projects if p in counts})
    return lane_plan(
        {p: counts[p] for p in wanted},
        workers=int(QUEUES[POST_QUEUE]["worker_concurrency"]),
        least=rules.batch_size * rules.batches_per_workflow,
    )


def lane_plan(counts: dict[str, int], workers: int, least: int) -> tuple[list[str], int]:
    """The projects largest first (the order they are claimed in: the big ones start early,
    the small ones fill in at the end) and the number of posting workflows: one per
    ``least`` entries, at most ``workers`` and never more than there are projects."""
    order = sorted(counts, key=lambda p: (-counts[p], p))
    total = sum(counts.values())
    lanes = max(1, min(workers, -(-total // max(1, least)), len(order)))
    return order, lanes if order else 0


@DBOS.step(name="time_to_bill.claim")
def claim(run_id: str, seq: int, projects: list[str]) -> str | None:
    """The next project of the run this posting workflow bills (its ``seq``-th; the same one
    if this step runs again after a crash), or None when every project is taken."""
    c = container()
    with c.db.writing() as s:
        return repo.claim_project(s, run_id, str(DBOS.workflow_id), seq, projects)


@DBOS.step(name="time_to_bill.bill")
def bill(project_id: str, as_of: datetime, run_id: str) -> dict[str, int]:
    c = container()
    pool = c.extras.get("posting_pool")
    result: dict[str, int]
    if pool is not None:  # in a posting process, on another core (decision 0012)
        result = pool.bill(project_id, as_of, run_id)
    else:
        with billing_plan.quiet_gc():
            result = billing_post.bill_project(
                c, c.erp_billing, project_id, as_of, run_id, step_retry()
            )
    result["batches"] = result.pop("requests")
    return result


@DBOS.step(name="time_to_bill.dead_letter")
def dead_letter(run_id: str, project_id: str, reason: str) -> int:
    """An exception for a project whose work still waits for the ERP (1), else nothing (0)."""
    c = container()
    with c.db.session() as s:
        waiting = repo.pending_counts(s, project_id).get(project_id, 0)
        if not waiting:
            return 0
        repos.raise_exception(
            s,
            flow=FLOW,
            kind="dead_letter",
            correlation_id=f"psa-project:{project_id}",  # resolved when the project bills
            source_system="netsuite",
            source_record=f"project:{project_id}:transient.exhausted",
            reason_code="transient.exhausted",
            reason=f"{waiting} entries of PSA project {project_id} wait for the ERP: {reason}",
            amount=None,
            legal_entity=None,
            findings=[{"code": "transient.exhausted", "message": reason, "project": project_id}],
            trigger={"flow": FLOW, "input": {"project_id": project_id}},
        )
    return 1
