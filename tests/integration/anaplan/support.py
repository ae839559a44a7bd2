"""Shared constants and helpers for the Anaplan sandbox and connector tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from pshub.sandboxes.anaplan.config import (
    DEFAULT_EXPORT_ID,
    DEFAULT_FILE_ID,
    DEFAULT_FILE_NAME,
    DEFAULT_IMPORT_ID,
    DEFAULT_IMPORT_NAME,
    DEFAULT_MODEL_ID,
    DEFAULT_WORKSPACE_ID,
)

USER = "integration@northwind.example"
PASSWORD = "correct horse battery staple"
WS = DEFAULT_WORKSPACE_ID
MODEL = DEFAULT_MODEL_ID
MODEL_PATH = f"/2/0/workspaces/{WS}/models/{MODEL}"
FILE_PATH = f"{MODEL_PATH}/files/{DEFAULT_FILE_ID}"
IMPORT_PATH = f"{MODEL_PATH}/imports/{DEFAULT_IMPORT_ID}"
EXPORT_PATH = f"{MODEL_PATH}/exports/{DEFAULT_EXPORT_ID}"
HEADER = ("Snapshot", "Legal Entity", "Service Line", "Month", "Category", "Amount")
LOCALE = {"localeName": "en_US"}

__all__ = [
    "DEFAULT_FILE_NAME",
    "DEFAULT_IMPORT_NAME",
    "EXPORT_PATH",
    "FILE_PATH",
    "HEADER",
    "IMPORT_PATH",
    "LOCALE",
    "MODEL",
    "MODEL_PATH",
    "PASSWORD",
    "USER",
    "WS",
]


def csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    lines = [",".join(HEADER), *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


def forecast_rows(snapshot: str, count: int) -> list[tuple[str, ...]]:
    """``count`` valid rows with distinct cells (entity x service line x month)."""
    entities, lines = ("US", "UK", "SG"), ("ERP-IMPL", "ADVISORY", "MANAGED", "DATA")
    months = [f"{m} 25" for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun")]
    cells = [(e, s, m) for e in entities for s in lines for m in months]
    return [
        (snapshot, e, s, m, "Forecast Revenue", f"{1000 + i}.{i % 100:02d}")
        for i, (e, s, m) in enumerate(cells[:count])
    ]


def cells(admin: httpx.Client) -> dict[tuple[str, ...], str]:
    """The sandbox's imported cells: (snapshot, entity, line, month, category) -> amount."""
    body = admin.get(f"/_sandbox/models/{MODEL}/cells").json()
    return {tuple(c[h] for h in HEADER[:-1]): c["Amount"] for c in body["cells"]}


def expected(rows: Sequence[Sequence[str]]) -> dict[tuple[str, ...], str]:
    return {tuple(r[:-1]): r[-1] for r in rows}


def set_settings(admin: httpx.Client, **settings: Any) -> None:
    current = admin.get("/_sandbox/settings").json()
    admin.put("/_sandbox/settings", json={**current, **settings}).raise_for_status()


def eventually(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Wait until ``check()`` holds (a synchronisation point, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.02)


def busy_answers(admin: httpx.Client) -> int:
    return int(admin.get("/_sandbox/stats").json()["faults_served"].get("model_busy", 0))
