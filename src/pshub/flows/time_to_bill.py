"""Flow ``time_to_bill``: approved time and expenses become ERP billable transactions.

    run (queue "time_to_bill", one at a time)
      project_groups: projects with pending work, in groups of about equal entry counts, one
        per posting workflow the queue runs at once (a project is never split: its
        not-to-exceed cap is decided in one place)
      -> one ``time_to_bill_post`` workflow per group: the first as a child workflow of the
         run, the others on the "erp_postings" queue meanwhile; the run waits for them all
    time_to_bill_post: one ``bill`` step per project: plan in memory, post the lines in
      requests of up to ``batch_size``, record everything in one commit

Nothing is stored between planning and the ERP's answer (decision 0010): a crash re-plans the
same lines under the same external ids, which the ERP upserts. The ERP connector shares one
concurrency budget per vendor account across all flows, so the queue can run more posting
workflows than the vendor allows without being rejected.
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
GROUP_POLL_SECONDS = 0.05
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
    """A group of projects of one run, billed by one posting workflow."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    as_of: datetime
    projects: tuple[str, ...]
    patience_seconds: float = 600.0


def start(inp: BillingRunInput) -> str:
    """Enqueue a billing run (a second start with the same run id is a no-op)."""
    enqueue(FLOW, time_to_bill, inp, inp.workflow_id)
    return inp.workflow_id


@DBOS.workflow(name=FLOW)
def time_to_bill(inp: BillingRunInput) -> dict[str, Any]:
    record_run(inp, "running", None)
    groups = project_groups(list(inp.projects) if inp.projects is not None else None)
    # A run too big for one posting workflow (month-end) quiets the other queues' polling
    # while it drains (decision 0011); a small run changes nothing.
    quiet = len(groups) > 1 and quiet_polling(True)
    try:
        # The first group runs here as a child workflow, the others on the queue meanwhile:
        # a small run (one group) waits for no queue poll.
        handles = [_enqueue_group(inp, n, group) for n, group in enumerate(groups) if n]
        results = [time_to_bill_post(_group_input(inp, groups[0]))] if groups else []
        # Checked every 50 ms: a check is one small read of the system database, which does
        # not hold up the groups' writes (WAL), while checking every 0.25 s left the run
        # waiting ~0.1 s after its last group on average (2 % of a 100,000-entry drain).
        results += [h.get_result(polling_interval_sec=GROUP_POLL_SECONDS) for h in handles]
    finally:
        if quiet:
            quiet_polling(False)
    totals: dict[str, Any] = {"projects": sum(len(g) for g in groups)} | dict.fromkeys(COUNTS, 0)
    for result in results:
        for key in COUNTS:
            totals[key] += result.get(key, 0)
    failed = totals["rejected"] or totals["dead_letters"] or totals["errors"]
    record_run(inp, "exception" if failed else "completed", totals)
    return totals


def _group_input(inp: BillingRunInput, projects: list[str]) -> BillProjectsInput:
    return BillProjectsInput(
        run_id=inp.run_id,
        as_of=inp.as_of,
        projects=tuple(projects),
        patience_seconds=inp.patience_seconds,
    )


def _enqueue_group(
    inp: BillingRunInput, n: int, projects: list[str]
) -> WorkflowHandle[dict[str, Any]]:
    child = _group_input(inp, projects)
    return enqueue(POST_QUEUE, time_to_bill_post, child, f"{POST_FLOW}:{inp.run_id}:{n}")


@DBOS.workflow(name=POST_FLOW)
def time_to_bill_post(inp: BillProjectsInput) -> dict[str, Any]:
    """One step per project (a checkpoint and a commit each); an ERP outage is waited out
    durably, and past the run's patience the group's remaining projects become exceptions."""
    totals = dict.fromkeys(COUNTS, 0)
    gave_up: str | None = None
    for project in inp.projects:
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


@DBOS.step(name="time_to_bill.project_groups")
def project_groups(projects: list[str] | None) -> list[list[str]]:
    """Projects with work to consider (all, or those named), in one group per posting
    workflow the queue runs at once (more when the backlog is big), balanced by entry count."""
    c = container()
    rules = c.policy().billing.rules
    with c.db.session() as s:
        counts = repo.pending_counts(s)
    wanted = sorted(counts) if projects is None else sorted({p for p in projects if p in counts})
    least = rules.batch_size * rules.batches_per_workflow
    return balanced_groups(
        {p: counts[p] for p in wanted},
        workers=int(QUEUES[POST_QUEUE]["worker_concurrency"]),
        least=least,
        most=least * 10,
    )


def balanced_groups(counts: dict[str, int], workers: int, least: int, most: int) -> list[list[str]]:
    """Projects in groups of about equal entry counts, so the posting workflows finish
    together (largest project first into the lightest group): one group per ``least``
    entries up to one per worker (a small run is one group, billed inside the run), and
    more groups, of at most about ``most`` entries, when the backlog is bigger still."""
    total = sum(counts.values())
    wanted = max(min(workers, -(-total // max(1, least))), -(-total // max(1, most)))
    n = max(1, min(len(counts), wanted))
    groups: list[list[str]] = [[] for _ in range(n)]
    loads = [0] * n
    for project in sorted(counts, key=lambda p: (-counts[p], p)):
        lightest = loads.index(min(loads))
        groups[lightest].append(project)
        loads[lightest] += counts[project]
    return [sorted(g) for g in groups if g]


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
