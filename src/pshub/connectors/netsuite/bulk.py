"""Bulk upserts through NetSuite's REST batch operations (asynchronous, up to 100 records).

Followed: NetSuite Help "Batch Operations" (``PUT /record/v1/{type}`` with ``Prefer:
respond-async``, content type ``application/vnd.oracle.resource+json; type=collection``, body
``{"items": [...]}`` with each item's ``externalId``: an upsert per item, at most 100) and
"Sending an Asynchronous Request Using an Idempotency Key" (a resubmitted batch with the same
``X-NetSuite-Idempotency-Key`` answers 400 IDEMPOTENCY_ERROR with the first job's ``Location``,
which is followed instead of creating a second job). The outcome is read from the job's task
collection, one task per item in request order, with ``expandSubResources=true`` so one request
returns every task and its result (a sandbox convenience; see the sandbox's ``asyncjobs``).

Batches run on as many threads as the account budget allows; every request (submit and poll)
takes a budget slot, and transient errors (429 with Retry-After, concurrency refusals, 5xx)
are retried by :func:`pshub.connectors.retry.call_with_retry`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import httpx

from pshub.connectors.errors import RejectedError
from pshub.connectors.netsuite.mapping import id_from_location
from pshub.connectors.netsuite.models import NsErrorBody, NsTask, NsTaskPage
from pshub.connectors.netsuite.schemas import PostResult
from pshub.connectors.netsuite.wirejson import dumps, loads
from pshub.connectors.retry import RetryPolicy, call_with_retry
from pshub.domain.findings import Finding

MAX_BATCH = 100
BATCH_MEDIA = "application/vnd.oracle.resource+json; type=collection"
_KEYS = uuid.UUID("0b7a4c1e-2d4f-4f8e-9c51-7e2a9d3b6f10")
Item = tuple[str, dict[str, Any]]  # (canonical id, body with externalId)


class Send(Protocol):
    def __call__(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        passthrough: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response: ...


class BulkWriter:
    """Splits records into batches, sends them in parallel within the budget, reads results."""

    def __init__(
        self,
        send: Send,
        *,
        batch_size: int,
        workers: int,
        policy: RetryPolicy,
        poll_interval: float = 0.005,
        max_poll_interval: float = 0.1,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size: between 1 and {MAX_BATCH}")
        self._send = send
        self.batch_size = batch_size
        self.workers = workers
        self._policy = policy
        self._poll = poll_interval
        self._max_poll = max_poll_interval
        # Learned pause before a job's first read (see _wait); shared by the writer's threads.
        self._first_read = 0.0
        self._learning = threading.Lock()

    def upsert(self, record_type: str, items: list[Item]) -> list[PostResult]:
        """One PostResult per item, in the order given."""
        chunks = [items[i : i + self.batch_size] for i in range(0, len(items), self.batch_size)]
        if not chunks:
            return []
        with ThreadPoolExecutor(max_workers=min(self.workers, len(chunks))) as pool:
            done = pool.map(lambda chunk: self._batch(record_type, chunk), chunks)
            return [result for batch in done for result in batch]

    def _batch(self, record_type: str, chunk: list[Item]) -> list[PostResult]:
        payload = dumps({"items": [body for _canonical, body in chunk]})
        key = str(uuid.uuid5(_KEYS, record_type + payload.decode("utf-8")))
        try:
            location = call_with_retry(
                lambda: self._submit(record_type, payload, key), self._policy
            )
        except RejectedError as refused:
            return [_refused(record_type, c, refused.code, refused.message, None) for c, _ in chunk]
        canonicals = [canonical for canonical, _body in chunk]
        return _outcomes(record_type, canonicals, self._wait(location))

    def _submit(self, record_type: str, payload: bytes, key: str) -> str:
        response = self._send(
            "PUT",
            f"/{record_type}",
            operation=f"batch upsert {record_type}",
            content=payload,
            headers={
                "Prefer": "respond-async",
                "Content-Type": BATCH_MEDIA,
                "X-NetSuite-Idempotency-Key": key,
            },
            passthrough=_already_submitted,
        )
        return response.headers["Location"]

    def _wait(self, location: str) -> Any:
        """The job's finished task page (parsed JSON), read after a learned pause, then again
        after a short, growing one.

        Every read is a request that counts against the account's concurrency: a read that
        finds the job still running costs a slot another batch could have used. The first
        read waits about as long as the account's jobs have recently needed (it grows when a
        first read finds the job unfinished and shrinks while first reads find it done), and
        no slot is held while waiting.
        """
        if self._first_read:
            time.sleep(self._first_read)
        wait, first = self._poll, True
        while True:
            body = loads(
                call_with_retry(
                    lambda: self._send(
                        "GET",
                        location.rstrip("/") + "/task",
                        operation="async job tasks",
                        params={"expandSubResources": "true"},
                    ),
                    self._policy,
                ).content
            )
            done = _all_completed(body)
            if first:
                self._learn(done)
                first = False
            if done:
                return body
            time.sleep(wait)
            wait = min(wait * 2, self._max_poll)

    def _learn(self, done_at_first_read: bool) -> None:
        with self._learning:
            if done_at_first_read:
                self._first_read *= 0.9
            else:
                self._first_read = min(self._max_first_read, self._first_read * 1.5 + self._poll)

    _max_first_read = 2.0


def _all_completed(body: Any) -> bool:
    """Whether every task of a task page has completed (read before any model is built)."""
    if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
        return True  # not a page: the model refuses it
    for task in body.get("items", []):
        if not isinstance(task, dict):
            return True
        flag = task.get("completed", False)
        if flag is False:
            return False
        if flag is not True and not NsTask.model_validate(task).completed:  # lax forms
            return False
    return True


def _already_submitted(response: httpx.Response) -> bool:
    """A resubmitted batch: follow the first job instead of failing."""
    if response.status_code != 400 or "Location" not in response.headers:
        return False
    try:
        body = NsErrorBody.model_validate(loads(response.content))
    except ValueError:
        return False
    return any(d.code == "IDEMPOTENCY_ERROR" for d in body.details)


def _outcomes(record_type: str, canonicals: list[str], page: Any) -> list[PostResult]:
    """One result per item from a finished task page (one task per item, in item order)."""
    locations = _plain_successes(page)
    if locations is not None:  # every task plainly succeeded: no model is needed to read it
        posted = zip(canonicals, locations, strict=True)
        return [_posted(record_type, canonical, location) for canonical, location in posted]
    tasks = sorted(NsTaskPage.model_validate(page).items, key=lambda t: _task_order(t.id))
    read = zip(canonicals, tasks, strict=True)
    return [_outcome(record_type, canonical, task) for canonical, task in read]


def _task_order(task_id: str) -> int:
    return int(task_id) if task_id.isdigit() else 0


def _plain_successes(page: Any) -> list[str] | None:
    """Each task's result ``Location`` in task order when every task is a plain success;
    else None, and the page is read into models (failures, odd or lax values, no items)."""
    items = page.get("items") if type(page) is dict else None
    if type(items) is not list or not all(map(_plain_success, items)):
        return None
    return [task["result"]["location"] for task in sorted(items, key=_raw_task_order)]


def _raw_task_order(task: dict[str, Any]) -> int:
    return _task_order(task["id"])


def _plain_success(task: Any) -> bool:
    """A task the models would read as-is into a success: exact JSON types, no error details.

    Only what :class:`NsTask` and :class:`NsTaskResult` read is looked at (other keys are
    ignored by them too); anything else goes to the models, which decide as they always did.
    """
    if type(task) is not dict:
        return False
    result = task.get("result")
    return (
        type(task.get("id")) is str
        and task.get("completed", False) is True
        and task.get("progress") == "succeeded"
        and type(result) is dict
        and type(result.get("status")) is int
        and type(result.get("location")) is str
        and "o:errorDetails" not in result
        and "details" not in result  # the field's own name is accepted too (populate_by_name)
    )


def _outcome(record_type: str, canonical: str, task: NsTask) -> PostResult:
    result = task.result
    if task.progress == "succeeded" and result is not None:
        return _posted(record_type, canonical, result.location)
    first = result.details[0] if result and result.details else None
    return _refused(
        record_type,
        canonical,
        first.code if first else None,
        first.detail if first else "NetSuite refused the record",
        first.path if first else None,
    )


_POSTED_FIELDS = frozenset(PostResult.model_fields)
_new = object.__new__
_set = object.__setattr__


def _posted(record_type: str, canonical: str, location: str | None) -> PostResult:
    """A posted result, built as ``PostResult.model_construct`` builds it at a third of its
    cost: every value is a checked str (this runs once per record of every batch)."""
    made = _new(PostResult)
    _set(
        made,
        "__dict__",
        {
            "external_id": canonical,
            "posted": True,
            "internal_id": id_from_location(location),
            "record_type": record_type,
            "error": None,
        },
    )
    _set(made, "__pydantic_fields_set__", set(_POSTED_FIELDS))
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made


def _refused(
    record_type: str, canonical: str, code: str | None, message: str, field: str | None
) -> PostResult:
    finding = Finding(code=code or "REJECTED", message=message, field=field, record=canonical)
    return PostResult(external_id=canonical, posted=False, record_type=record_type, error=finding)
