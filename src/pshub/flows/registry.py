"""Which flows exist and how to start one again from a stored trigger (retry, replay)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pshub.bootstrap import container
from pshub.flows import (
    change_intake,
    change_orders,
    deal_to_project,
    milestone_billing,
    milestone_intake,
    time_to_bill,
)


def restart(trigger: dict[str, Any], attempt: int) -> str:
    """Start the flow named in ``trigger`` again as attempt ``attempt``; returns the workflow id."""
    flow = trigger.get("flow")
    if flow == deal_to_project.FLOW:
        inp = deal_to_project.ProvisionDealInput.model_validate(trigger["input"])
        return deal_to_project.start(inp.model_copy(update={"attempt": attempt}))
    if flow == time_to_bill.FLOW:  # a project's billing: run billing for that project now
        project = str(trigger["input"]["project_id"])
        now = datetime.now(UTC)
        return time_to_bill.start(
            time_to_bill.BillingRunInput(
                run_id=f"retry-{project}-a{attempt}-{now:%Y%m%dT%H%M%S%f}",
                as_of=now,
                projects=(project,),
            )
        )
    if flow == time_to_bill.POST_FLOW:  # dead-lettered batches of an earlier version: a run
        now = datetime.now(UTC)
        return time_to_bill.start(
            time_to_bill.BillingRunInput(
                run_id=f"retry-a{attempt}-{now:%Y%m%dT%H%M%S%f}", as_of=now
            )
        )
    if flow == change_orders.FLOW:  # a rejected or failed change order: apply it again
        return change_intake.restart(container(), str(trigger["input"]["change_key"]))
    if flow == milestone_billing.FLOW:  # a blocked or failed milestone: bill it again
        return milestone_intake.restart(container(), str(trigger["input"]["milestone_id"]))
    raise ValueError(f"trigger.flow: unknown flow {flow!r}")
