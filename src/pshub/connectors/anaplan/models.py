"""Anaplan vendor records, as the Integration API v2 and the auth service answer them.

Only the fields pshub reads; everything else is ignored (``extra="ignore"``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_VENDOR = ConfigDict(extra="ignore", populate_by_name=True)


class TokenInfo(BaseModel):
    model_config = _VENDOR

    token_value: str = Field(alias="tokenValue")
    expires_at: int = Field(alias="expiresAt")  # epoch milliseconds
    token_id: str | None = Field(None, alias="tokenId")


class AnaplanFile(BaseModel):
    model_config = _VENDOR

    id: str
    name: str
    chunk_count: int = Field(0, alias="chunkCount")


class AnaplanImport(BaseModel):
    model_config = _VENDOR

    id: str
    name: str
    data_source_id: str | None = Field(None, alias="importDataSourceId")
    import_type: str | None = Field(None, alias="importType")


class AnaplanExport(BaseModel):
    model_config = _VENDOR

    id: str
    name: str


class TaskResult(BaseModel):
    model_config = _VENDOR

    successful: bool = False
    failure_dump_available: bool = Field(False, alias="failureDumpAvailable")
    object_id: str | None = Field(None, alias="objectId")
    details: list[dict[str, Any]] = []


class AnaplanTask(BaseModel):
    model_config = _VENDOR

    task_id: str = Field(alias="taskId")
    task_state: str | None = Field(None, alias="taskState")
    progress: float | None = None
    result: TaskResult | None = None

    @property
    def finished(self) -> bool:
        return self.task_state in ("COMPLETE", "CANCELLED")
