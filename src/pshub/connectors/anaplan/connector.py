"""AnaplanConnector: publish a CSV into a model through a file import; read cells back.

The bulk-write sequence follows help.anaplan.com (*Upload a file in chunks*, *Start the
import*, *Monitor the import task*, *Check dump file for failures*):

1. ``POST …/files/{fileId}`` ``{"chunkCount": -1}``, ``PUT …/chunks/{n}`` per chunk,
   ``POST …/files/{fileId}/complete``;
2. ``POST …/imports/{importId}/tasks`` ``{"localeName": "en_US"}``; a 409 (the model runs
   another task) is waited out, honouring ``Retry-After``, for up to ``busy_timeout`` seconds;
3. ``GET …/tasks/{taskId}`` with growing intervals until ``COMPLETE``;
4. when ``failureDumpAvailable``, ``GET …/tasks/{taskId}/dump``: the rejected rows.

An import writes cells keyed by their dimension values, so publishing the same file again
rewrites the same cells: a replayed publish is idempotent. Publishes to one model from this
process take turns (a lock per model), because the uploaded file and the failure dump are per
user and per import: a second upload would overwrite the first before its import ran.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import httpx

from pshub.connectors.anaplan import mapping
from pshub.connectors.anaplan.auth import TokenSession
from pshub.connectors.anaplan.client import AnaplanClient, api_root
from pshub.connectors.anaplan.errors import VENDOR
from pshub.connectors.anaplan.models import (
    AnaplanExport,
    AnaplanFile,
    AnaplanImport,
    AnaplanTask,
    TaskResult,
)
from pshub.connectors.anaplan.results import ImportOutcome, RejectedRow
from pshub.connectors.errors import (
    ConcurrencyLimitError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
)

DEFAULT_CHUNK_SIZE = 10 * 1024 * 1024  # Anaplan expects chunks of 1 to 50 MB
LOCALE = {"localeName": "en_US"}  # the only locale the API supports

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _model_lock(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


class AnaplanConnector:
    """One model of one workspace, as one Anaplan user. A context manager."""

    system = "anaplan"

    def __init__(
        self,
        auth_url: str,
        api_url: str,
        username: str,
        password: str,
        *,
        workspace_id: str,
        model_id: str,
        timeout: float = 10.0,
        refresh_margin: float = 300.0,
        busy_timeout: float = 600.0,
        task_timeout: float = 1800.0,
        poll_interval: float = 0.1,
        poll_max_interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._session = TokenSession(
            auth_url,
            username,
            password,
            timeout=timeout,
            refresh_margin=refresh_margin,
            transport=transport,
        )
        self._client = AnaplanClient(self._session, api_url, timeout=timeout, transport=transport)
        self._base = f"/workspaces/{workspace_id}/models/{model_id}"
        self._lock_key = f"{api_root(api_url)}{self._base}"
        self._busy_timeout = busy_timeout
        self._task_timeout = task_timeout
        self._poll = (poll_interval, poll_max_interval)
        self._sleep = sleep

    def close(self) -> None:
        self._client.close()
        self._session.close()

    def __enter__(self) -> AnaplanConnector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- metadata ----------------------------------------------------------------------
    def files(self) -> list[AnaplanFile]:
        return [
            AnaplanFile.model_validate(f)
            for f in self._client.items(f"{self._base}/files", "files")
        ]

    def imports(self) -> list[AnaplanImport]:
        items = self._client.items(f"{self._base}/imports/", "imports")
        return [AnaplanImport.model_validate(i) for i in items]

    def exports(self) -> list[AnaplanExport]:
        items = self._client.items(f"{self._base}/exports", "exports")
        return [AnaplanExport.model_validate(e) for e in items]

    # -- publishing and reading ----------------------------------------------------------
    def publish_csv(
        self,
        file_name: str,
        csv_bytes: bytes,
        import_name: str,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> ImportOutcome:
        """Upload ``csv_bytes`` to the file (name or id), run the import (name or id), wait."""
        definition = _named(self.imports(), import_name, "import")
        target = _named(self.files(), file_name, "file")
        if definition.data_source_id and definition.data_source_id != target.id:
            raise RejectedError(
                f"import {definition.name!r} reads file {definition.data_source_id}, "
                f"not {target.name!r} ({target.id})",
                vendor=VENDOR,
                operation="publish_csv",
                record=definition.id,
                fields=("file_name",),
            )
        with self._turn():
            self._upload(target.id, csv_bytes, chunk_size)
            task_id = self._start("imports", definition.id)
            task = self._wait("imports", definition.id, task_id)
            return self._outcome(definition.id, task)

    def export_cells(self, export_name: str) -> list[dict[str, str]]:
        """Run an export (name or id) and return its rows as dicts keyed by column name."""
        export = _named(self.exports(), export_name, "export")
        with self._turn():
            task = self._wait("exports", export.id, self._start("exports", export.id))
            result = task.result or TaskResult()
            if not result.successful:
                raise RejectedError(
                    mapping.failure_message(result.details),
                    vendor=VENDOR,
                    operation="export",
                    record=export.id,
                )
            return mapping.from_csv(self._download(export.id))

    # -- steps ---------------------------------------------------------------------------
    def _turn(self) -> _Turn:
        return _Turn(_model_lock(self._lock_key), self._busy_timeout)

    def _upload(self, file_id: str, data: bytes, chunk_size: int) -> None:
        path = f"{self._base}/files/{file_id}"
        self._client.json("POST", path, json={"chunkCount": -1})
        for index, chunk in enumerate(mapping.split(data, chunk_size)):
            self._client.request("PUT", f"{path}/chunks/{index}", content=chunk)
        self._client.json("POST", f"{path}/complete")

    def _start(self, kind: str, object_id: str) -> str:
        """Start a task; while the model is busy, wait (Retry-After or backoff) and retry."""
        started = time.monotonic()
        delay = self._poll[0]
        while True:
            try:
                body = self._client.json(
                    "POST", f"{self._base}/{kind}/{object_id}/tasks", json=LOCALE
                )
            except RateLimitedError as busy:  # 409 busy, 423 locked, 429 too many requests
                wait = busy.retry_after or delay  # a missing or zero Retry-After: back off
                if time.monotonic() - started + wait > self._busy_timeout:
                    raise
                self._sleep(wait)
                delay = min(delay * 2, self._poll[1])
                continue
            task = body.get("task") if isinstance(body.get("task"), dict) else body
            return str(AnaplanTask.model_validate(task).task_id)

    def _wait(self, kind: str, object_id: str, task_id: str) -> AnaplanTask:
        """Poll the task with growing intervals until it is COMPLETE or CANCELLED."""
        path = f"{self._base}/{kind}/{object_id}/tasks/{task_id}"
        deadline = time.monotonic() + self._task_timeout
        delay = self._poll[0]
        while True:
            try:
                task = AnaplanTask.model_validate(self._client.json("GET", path).get("task") or {})
            except RateLimitedError as limited:
                self._sleep(limited.retry_after or delay)
                continue
            if task.finished:
                return task
            if time.monotonic() + delay > deadline:
                raise TransientError(
                    f"task {task_id} still {task.task_state} after {self._task_timeout:.0f}s",
                    vendor=VENDOR,
                    operation=f"GET {path}",
                    code="TASK_TIMEOUT",
                )
            self._sleep(delay)
            delay = min(delay * 1.5, self._poll[1])

    def _outcome(self, import_id: str, task: AnaplanTask) -> ImportOutcome:
        operation = f"import {import_id} task {task.task_id}"
        if task.task_state == "CANCELLED":
            raise TransientError(
                "the import task was cancelled", vendor=VENDOR, operation=operation
            )
        result = task.result or TaskResult()
        if not result.successful and not result.failure_dump_available:
            raise RejectedError(
                mapping.failure_message(result.details),
                vendor=VENDOR,
                operation=operation,
                code="IMPORT_FAILED",
                record=import_id,
            )
        rejected = self._rejected(import_id, task.task_id) if result.failure_dump_available else []
        counts = mapping.row_counts(result.details)
        return ImportOutcome(
            task_id=task.task_id,
            successful=result.successful,
            rows_imported=counts.get("successRowCount", 0),
            rejected=rejected,
        )

    def _rejected(self, import_id: str, task_id: str) -> list[RejectedRow]:
        path = f"{self._base}/imports/{import_id}/tasks/{task_id}/dump"
        try:
            response = self._client.request("GET", path)
        except NotFoundError as exc:  # replaced by a later run of the same import
            raise TransientError(
                "the failure dump is no longer available; publish again",
                vendor=VENDOR,
                operation=f"GET {path}",
            ) from exc
        return [] if response.status_code == 204 else mapping.rejected_rows(response.text)

    def _download(self, file_id: str) -> bytes:
        path = f"{self._base}/files/{file_id}"
        chunk_ids = [str(c.get("id")) for c in self._client.items(f"{path}/chunks", "chunks")]
        return b"".join(
            self._client.request("GET", f"{path}/chunks/{c}").content for c in chunk_ids
        )


class _Turn:
    """This process's turn on a model: a lock acquired with a bound, as a context manager."""

    def __init__(self, lock: threading.Lock, timeout: float) -> None:
        self._lock = lock
        self._timeout = timeout

    def __enter__(self) -> None:
        if not self._lock.acquire(timeout=self._timeout):
            raise ConcurrencyLimitError(
                "another publish to this model is still running in this process",
                vendor=VENDOR,
                operation="publish_csv",
                retry_after=1.0,
            )

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


_Named = TypeVar("_Named", AnaplanImport, AnaplanExport, AnaplanFile)


def _named(items: list[_Named], name: str, kind: str) -> _Named:
    found = next((i for i in items if name in (i.name, i.id)), None)
    if found is None:
        raise NotFoundError(f"no {kind} named {name!r}", vendor=VENDOR, operation=f"find {kind}")
    return found
