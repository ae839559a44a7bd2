"""Import and export tasks: one at a time per model, lazily advanced by the clock.

Anaplan runs imports, exports and processes with exclusive access to the model ("Certain
actions such as imports, exports, or writeback actions require exclusive access to a model
during their execution. These actions lock the model": help.anaplan.com, *Check model
status*). Starting a task while another is running is answered 409 Conflict ("Model or object
busy, conflicting action": *Troubleshooting API usage*), in the ``ErrorResponse`` shape and
with ``Retry-After``.

A task reads its file when it starts (the plan is fixed then), stays ``IN_PROGRESS`` for
``import_seconds`` and is applied, atomically, the first time anyone looks at the model after
that (a poll, a new task, the admin cells route). Task states and the ``result`` object follow
the vendor's *Monitor the import task* description.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from pshub.sandboxes.anaplan import engine
from pshub.sandboxes.anaplan.config import ExportSpec, ImportSpec, SandboxSettings
from pshub.sandboxes.anaplan.store import AnaplanStore
from pshub.sandboxes.anaplan.wire import AnaplanError, bad_request

EXPORT_CHUNK_BYTES = 10 * 1024 * 1024  # the vendor's chunk size ceiling for downloads


class TaskRunner:
    def __init__(
        self,
        store: AnaplanStore,
        settings: Callable[[], SandboxSettings],
        on_busy: Callable[[], None],
    ) -> None:
        self.store = store
        self.settings = settings
        self.on_busy = on_busy

    def start_import(self, model_id: str, spec: ImportSpec) -> dict[str, Any]:
        model = self.store.model(model_id)
        module = model.module(spec.module_id)
        if module is None:
            raise bad_request(f"Import {spec.id} targets unknown module {spec.module_id}")
        with self.store.state.transaction():
            self._refuse_if_busy(model_id)
            meta = self.store.file(model_id, spec.file_id)
            ready = meta is not None and meta.get("complete")
            content = self.store.content(model_id, spec.file_id) if ready else None
            plan = engine.plan_import(model, module, content)
            task = self._new_task(model_id, "import", spec.id, self.settings().import_seconds)
            task["plan"] = plan.as_dict()
            task["moduleName"] = module.name
            self.store.put_task(task)
        return task

    def start_export(self, model_id: str, spec: ExportSpec) -> dict[str, Any]:
        model = self.store.model(model_id)
        module = model.module(spec.module_id)
        if module is None:
            raise bad_request(f"Export {spec.id} reads unknown module {spec.module_id}")
        with self.store.state.transaction():
            self._refuse_if_busy(model_id)
            data = engine.export_csv(module, self.store.cells(model_id, module.id))
            meta: dict[str, Any] = {
                "id": spec.id,
                "name": spec.name,
                "origin": "NATIVE_ANAPLAN",
                "format": "txt",
                "delimiter": '"',
                "encoding": "UTF-8",
                "separator": ",",
                "headerRow": 1,
                "firstDataRow": 2,
            }
            self.store.write_file(model_id, meta, data, EXPORT_CHUNK_BYTES)
            task = self._new_task(model_id, "export", spec.id, 0.0)
            task |= {"done": True, "result": _export_result(spec.id)}
            self.store.put_task(task)
        return task

    def settle(self, model_id: str, *, force: bool = False) -> None:
        """Finish every task of the model whose time is up (or all of them, with ``force``)."""
        with self.store.state.transaction():
            for task in self.store.tasks(model_id):
                due = task["startedAt"] + task["duration"] <= time.time()
                if not task["done"] and (force or due):
                    self._finish(task)

    def running(self, model_id: str) -> list[dict[str, Any]]:
        self.settle(model_id)
        return [t for t in self.store.tasks(model_id) if not t["done"]]

    def _refuse_if_busy(self, model_id: str) -> None:
        busy = self.running(model_id)
        if busy:
            self.on_busy()
            kind = busy[0]["kind"].capitalize()
            message = (
                f"Model is busy: the system is currently processing an {kind} "
                f"(task {busy[0]['taskId']}). Try again later."
            )
            retry = {"Retry-After": str(self.settings().busy_retry_after)}
            raise AnaplanError(409, message, headers=retry)

    def _new_task(
        self, model_id: str, kind: str, object_id: str, duration: float
    ) -> dict[str, Any]:
        now = time.time()
        return {
            "taskId": uuid.uuid4().hex.upper(),
            "model": model_id,
            "kind": kind,
            "objectId": object_id,
            "creationTime": int(now * 1000),
            "startedAt": now,
            "duration": duration,
            "done": False,
        }

    def _finish(self, task: dict[str, Any]) -> None:
        plan = engine.ImportPlan.from_dict(task.pop("plan"))
        model = self.store.model(task["model"])
        spec = next((i for i in model.imports if i.id == task["objectId"]), None)
        if spec is not None:  # the definition may have been removed while the task ran
            for cell in plan.cells:
                self.store.put_cell(model.id, spec.module_id, cell["dimensions"], cell["values"])
        self.store.put_dump(model.id, task["objectId"], task["taskId"], engine.dump_csv(plan))
        task["result"] = engine.result(plan, task["objectId"], task.get("moduleName", ""))
        task["done"] = True
        self.store.put_task(task)


def task_view(task: dict[str, Any], *, created: bool = False) -> dict[str, Any]:
    """The vendor's ``Task`` object; ``created`` gives the answer to the POST that started it."""
    base = {"taskId": task["taskId"], "creationTime": task["creationTime"]}
    if created:
        return {**base, "taskState": "NOT_STARTED"}
    if task["done"]:
        return {
            **base,
            "taskState": "COMPLETE",
            "currentStep": "Complete.",
            "progress": 1.0,
            "result": task["result"],
        }
    elapsed = time.time() - task["startedAt"]
    progress = min(0.99, elapsed / task["duration"]) if task["duration"] else 0.0
    return {
        **base,
        "taskState": "IN_PROGRESS",
        "currentStep": "Processing ...",
        "progress": progress,
    }


def _export_result(export_id: str) -> dict[str, Any]:
    return {"successful": True, "failureDumpAvailable": False, "objectId": export_id}
