"""Asynchronous requests and batch operations of NetSuite REST web services.

Followed: NetSuite Help "REST Web Services Request Processing", "Sending an Asynchronous
Request", "Polling for the Status of a Completed Asynchronous Request", "Getting the Result of
an Executed Request", "Sending an Asynchronous Request Using an Idempotency Key" and "Batch
Operations":

- any record write sent with ``Prefer: respond-async`` answers ``202 Accepted`` with
  ``Preference-Applied: respond-async`` and ``Location: /services/rest/async/v1/job/{id}``;
- a batch is ``POST|PATCH|PUT /record/v1/{type}`` with ``Prefer: respond-async``, content type
  ``application/vnd.oracle.resource+json; type=collection`` and ``{"items": [...]}`` (at most
  100 records; PUT items carry their ``externalId`` and are upserts). Each item becomes one
  task of the job, task ids following the order of the items;
- ``GET /async/v1/job/{id}`` -> ``{links, id, completed, progress, task: {links}}``;
  ``GET .../job/{id}/task`` -> the task collection; ``GET .../task/{tid}`` ->
  ``{links (self, related result), id, completed, progress, startTime, endTime}``;
  ``GET .../task/{tid}/result`` -> what the request would have answered synchronously
  (``204`` + ``Location`` for a write, the error body and status for a refusal);
- ``X-NetSuite-Idempotency-Key``: a second submission with a used key answers 400
  IDEMPOTENCY_ERROR with the ``Location`` of the first job.

Sandbox choices (not documented by NetSuite): ``?expandSubResources=true`` on the task
collection inlines each task and its ``result``, so a client reads a whole batch outcome in one
request; a job whose tasks all succeeded is ``succeeded``, otherwise ``failed``; jobs live in
memory only. Jobs run on ``async_processors`` worker threads (NetSuite: "REST Async
Processors, according to the number of SuiteCloud Plus licenses"); the account's concurrency
limit counts the HTTP requests (submissions and polls), not queued jobs: NetSuite documents
that "each request counts toward the account limit" and runs async jobs in a separate pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from pshub.sandboxes.netsuite.errors import NsError, error_body
from pshub.sandboxes.netsuite.wirejson import ExactJSONResponse

ASYNC_PREFIX = "/services/rest/async/v1"
MAX_BATCH = 100
Operation = Callable[[], str]  # performs one write, returns the record's href


_stamp: tuple[int, str] = (-1, "")


def _now() -> str:
    """The current second as NetSuite writes it, formatted once per second (two per task)."""
    global _stamp
    second, stamp = int(time.time()), _stamp
    if stamp[0] != second:
        stamp = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        _stamp = stamp
    return stamp[1]


def _spent() -> str:
    raise RuntimeError("this task has already run")


@dataclass(slots=True)  # jobs stay in memory: slots keep them small and cheap for the GC
class Task:
    id: str
    run: Operation
    progress: str = "pending"
    start: str | None = None
    end: str | None = None
    result: dict[str, Any] = field(default_factory=dict)  # {"status", "location"} or error

    @property
    def completed(self) -> bool:
        return self.progress in ("succeeded", "failed")


@dataclass(slots=True)
class Job:
    id: str
    tasks: list[Task]
    start: str | None = None
    end: str | None = None
    prepare: Callable[[], None] | None = None  # run first, in the job's transaction

    @property
    def completed(self) -> bool:
        return all(t.completed for t in self.tasks)

    @property
    def progress(self) -> str:
        if not self.completed:
            return "pending"
        return "succeeded" if all(t.progress == "succeeded" for t in self.tasks) else "failed"


class JobRunner:
    """Queues jobs and runs them on a fixed pool of async processors."""

    def __init__(
        self,
        processors: int,
        batch_scope: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=processors, thread_name_prefix="ns-async")
        self._jobs: dict[str, Job] = {}
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()
        self._next = 0
        self._scope = batch_scope  # one transaction per job: one commit for 100 records

    def submit(
        self,
        operations: list[Operation],
        idempotency_key: str | None,
        prepare: Callable[[], None] | None = None,
    ) -> tuple[Job, bool]:
        """Queue a job; returns (job, is_new). A used idempotency key returns the first job.

        ``prepare`` runs before the tasks, in the job's transaction (reads the tasks will need,
        fetched at once); it changes nothing a task would see, so its failure is ignored."""
        with self._lock:
            if idempotency_key and idempotency_key in self._keys:
                return self._jobs[self._keys[idempotency_key]], False
            self._next += 1
            tasks = [Task(str(n), op) for n, op in enumerate(operations, 1)]
            job = Job(str(self._next), tasks, prepare=prepare)
            self._jobs[job.id] = job
            if idempotency_key:
                self._keys[idempotency_key] = job.id
        self._pool.submit(self._run, job)
        return job, True

    def job(self, job_id: str) -> Job:
        found = self._jobs.get(job_id)
        if found is None:
            raise NsError.one(
                404,
                "NONEXISTENT_ID",
                f"The async job {job_id} does not exist.",
                url_path=job_id,
            )
        return found

    def _run(self, job: Job) -> None:
        job.start = _now()
        with self._scope():
            if job.prepare is not None:
                with suppress(Exception):  # each task then reads (and fails) on its own
                    job.prepare()
                job.prepare = None
            for task in job.tasks:
                task.start = _now()
                try:
                    task.result = {"status": 204, "location": task.run()}
                    task.progress = "succeeded"
                except NsError as exc:
                    task.result = error_body(exc.status, exc.details)
                    task.progress = "failed"
                except Exception as exc:
                    task.result = error_body(500, [])
                    task.result["o:errorDetails"] = [
                        {
                            "detail": f"An unexpected error occurred: {exc}",
                            "o:errorCode": "UNEXPECTED_ERROR",
                        }
                    ]
                    task.progress = "failed"
                task.end = _now()
                task.run = _spent  # let the request body it held go
        job.end = _now()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def accepted(base: str, job: Job) -> Response:
    return Response(
        status_code=202,
        headers={
            "Preference-Applied": "respond-async",
            "Location": f"{base}{ASYNC_PREFIX}/job/{job.id}",
        },
    )


def duplicate(base: str, job: Job) -> Response:
    body = {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.10",
        "title": "Conflict",
        "status": 400,
        "o:errorDetails": [
            {
                "detail": "A request with the same idempotency key is already submitted. "
                'See the "Location" header for a link to the previously submitted job',
                "o:errorCode": "IDEMPOTENCY_ERROR",
            }
        ],
    }
    return ExactJSONResponse(
        body,
        status_code=400,
        media_type="application/vnd.oracle.resource+json; type=error",
        headers={
            "Preference-Applied": "respond-async",
            "Location": f"{base}{ASYNC_PREFIX}/job/{job.id}",
        },
    )


def async_routes(runner: JobRunner) -> APIRouter:
    """The job routes: coroutines, since they only read jobs in memory (no hop to a thread)."""
    router = APIRouter(prefix=ASYNC_PREFIX)

    @router.get("/job/{job_id}")
    async def job_status(job_id: str, request: Request) -> Response:
        job = runner.job(job_id)
        href = f"{_root(request)}{ASYNC_PREFIX}/job/{job.id}"
        body: dict[str, Any] = {
            "links": [{"rel": "self", "href": href}],
            "completed": job.completed,
            "id": job.id,
            "progress": job.progress,
            "task": {"links": [{"rel": "self", "href": f"{href}/task"}]},
        }
        body.update(_times(job.start, job.end))
        return ExactJSONResponse(body)

    @router.get("/job/{job_id}/task")
    async def tasks(job_id: str, request: Request) -> Response:
        job = runner.job(job_id)
        expand = request.query_params.get("expandSubResources", "").lower() == "true"
        href = f"{_root(request)}{ASYNC_PREFIX}/job/{job.id}/task"
        items = [_task(href, t, inline=True) if expand else _ref(href, t) for t in job.tasks]
        return ExactJSONResponse(
            {
                "links": [{"rel": "self", "href": href}],
                "count": len(items),
                "hasMore": False,
                "items": items,
                "offset": 0,
                "totalResults": len(items),
            }
        )

    @router.get("/job/{job_id}/task/{task_id}")
    async def task(job_id: str, task_id: str, request: Request) -> Response:
        href = f"{_root(request)}{ASYNC_PREFIX}/job/{job_id}/task"
        return ExactJSONResponse(_task(href, _find(runner.job(job_id), task_id), inline=False))

    @router.get("/job/{job_id}/task/{task_id}/result")
    async def result(job_id: str, task_id: str) -> Response:
        found = _find(runner.job(job_id), task_id)
        if not found.completed:
            raise NsError.one(404, "NONEXISTENT_ID", "The task has not completed yet.")
        if found.result.get("status") == 204:
            return Response(status_code=204, headers={"Location": found.result["location"]})
        return ExactJSONResponse(
            found.result,
            status_code=int(found.result["status"]),
            media_type="application/vnd.oracle.resource+json; type=error",
        )

    return router


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _find(job: Job, task_id: str) -> Task:
    for task in job.tasks:
        if task.id == task_id:
            return task
    raise NsError.one(404, "NONEXISTENT_ID", f"The task {task_id} does not exist.")


def _ref(href: str, task: Task) -> dict[str, Any]:
    return {"links": [{"rel": "self", "href": f"{href}/{task.id}"}], "id": task.id}


def _task(href: str, task: Task, *, inline: bool) -> dict[str, Any]:
    own = f"{href}/{task.id}"
    body: dict[str, Any] = {
        "links": [
            {"rel": "related", "href": f"{own}/result"},
            {"rel": "self", "href": own},
        ],
        "completed": task.completed,
        "id": task.id,
        "progress": task.progress,
    }
    body.update(_times(task.start, task.end))
    if inline and task.completed:
        body["result"] = task.result
    return body


def _times(start: str | None, end: str | None) -> Iterator[tuple[str, str]]:
    if start:
        yield "startTime", start
    if end:
        yield "endTime", end
