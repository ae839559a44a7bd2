"""Durable waiting shared by flows: while a target stays down, sleep durably and try again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from dbos import DBOS, SetWorkflowID, WorkflowHandle

from pshub.bootstrap import container
from pshub.connectors.errors import TransientError
from pshub.connectors.retry import RetryPolicy
from pshub.store import repos

T = TypeVar("T")


class DeadLetter(Exception):
    """A transient failure that outlasted the flow's patience."""


def enqueue(
    queue_name: str, workflow: Callable[..., Any], inp: Any, workflow_id: str
) -> WorkflowHandle[Any]:
    """Enqueue ``workflow(inp)`` on a registered queue under its business-key id (a second
    enqueue of the same id is a no-op: DBOS returns the first run)."""
    queue = DBOS.retrieve_queue(queue_name)
    if queue is None:
        raise RuntimeError(f"queue {queue_name} is not registered; call bootstrap.launch()")
    with SetWorkflowID(workflow_id):
        return queue.enqueue(workflow, inp)


RESULT_POLL_SECONDS = 0.05


def result_of(workflow_id: str, polling_seconds: float = RESULT_POLL_SECONDS) -> Any:
    """Wait for a workflow's result, checking every 50 ms (DBOS polls once a second by
    default, which would add up to a second to every run a caller waits for). Each check is
    a transaction on the system database: a caller waiting on a long run checks less often."""
    return DBOS.retrieve_workflow(workflow_id).get_result(polling_interval_sec=polling_seconds)


def step_retry() -> RetryPolicy:
    """In-step retry budget for transient errors (then the workflow waits durably)."""
    seconds = container().settings.step_retry_seconds
    return RetryPolicy(max_elapsed=seconds, max_delay=min(5.0, seconds))


def patiently(
    correlation_id: str, patience_seconds: float, step: Callable[..., T], *args: Any
) -> T:
    """Run a connector step; on a transient error wait (``DBOS.sleep``, so a restart resumes
    the wait) and run it again, until ``patience_seconds`` have passed: then DeadLetter."""
    waited, delay = 0.0, 2.0
    while True:
        try:
            return step(*args)
        except TransientError as exc:
            if waited >= patience_seconds:
                raise DeadLetter(f"gave up after waiting {waited:.0f}s: {exc}") from exc
            note_waiting(correlation_id, getattr(step, "__name__", "step"), str(exc), delay)
            DBOS.sleep(delay)
            waited += delay
            delay = min(delay * 2, 30.0)


class Patient(Protocol):
    """A flow input that names its correlation and how long to wait out outages."""

    @property
    def correlation_id(self) -> str: ...

    @property
    def patience_seconds(self) -> float: ...


def patiently_for(inp: Patient, step: Callable[..., T], *args: Any) -> T:
    """:func:`patiently` with the flow input's correlation id and patience."""
    return patiently(inp.correlation_id, inp.patience_seconds, step, *args)


@DBOS.step(name="durable.note_waiting")
def note_waiting(correlation_id: str, step: str, error: str, delay: float) -> None:
    with container().db.session() as s:
        repos.audit(
            s,
            action="flow.waiting",
            correlation_id=correlation_id,
            step=step,
            error=error,
            retry_in_seconds=delay,
        )
