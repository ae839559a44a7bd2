"""What publishing a file to Anaplan answers: the task, its row counts, the rejected rows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RejectedRow(BaseModel):
    """A source row the import refused: its line in the file, the reason, its values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    row: int
    reason: str
    values: dict[str, str]


class ImportOutcome(BaseModel):
    """The finished import task; ``rejected`` is empty when every row was imported."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str
    successful: bool
    rows_imported: int
    rejected: list[RejectedRow] = []
