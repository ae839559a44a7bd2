"""Which flows exist and how to start one again from a stored trigger (retry, replay)."""

from __future__ import annotations

from typing import Any

from pshub.flows import deal_to_project


def restart(trigger: dict[str, Any], attempt: int) -> str:
    """Start the flow named in ``trigger`` again as attempt ``attempt``; returns the workflow id."""
    flow = trigger.get("flow")
    if flow == deal_to_project.FLOW:
        inp = deal_to_project.ProvisionDealInput.model_validate(trigger["input"])
        return deal_to_project.start(inp.model_copy(update={"attempt": attempt}))
    raise ValueError(f"trigger.flow: unknown flow {flow!r}")
