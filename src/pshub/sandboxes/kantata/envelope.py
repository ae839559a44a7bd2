"""The Kantata OX response envelope, paging, ordering and the small parsers every route shares.

Every answer (GET, POST, PUT) has the shape documented at
https://developer.kantata.com/kantata/specification/section/response-format::

    {"count": N, "results": [{"key": "workspaces", "id": "10"}, ...],
     "workspaces": {"10": {...}}, "users": {...sideloaded...},
     "meta": {"count": N, "page_count": P, "page_number": n, "page_size": s}}

``count`` is the number of matching records (all pages); ``results`` gives the canonical order
of this page. Paging is ``page`` (from 1) and ``per_page`` (default 20, at most 200, per the
vendor OpenAPI's ``per_page`` parameter); a larger ``per_page`` is clamped to 200.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pshub.sandboxes.base import sandbox_now
from pshub.sandboxes.kantata.errors import FieldErrors, system_error

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200


def now_iso() -> str:
    """Kantata timestamps: ISO 8601 with a UTC offset."""
    return sandbox_now().replace(microsecond=0).isoformat()


def strip_json(ref: str) -> str:
    """``/workspaces/5.json`` and ``/workspaces/5`` address the same record."""
    return ref[:-5] if ref.endswith(".json") else ref


def parse_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in {"true", "1", "yes", "t"}


def csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_int(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise system_error(400, f"{name} must be an integer") from exc


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Paging:
        page = max(1, parse_int(query.get("page"), "page", 1))
        per_page = parse_int(query.get("per_page"), "per_page", DEFAULT_PER_PAGE)
        return cls(page=page, per_page=min(MAX_PER_PAGE, max(1, per_page)))

    def slice(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        start = (self.page - 1) * self.per_page
        return records[start : start + self.per_page]

    def meta(self, count: int) -> dict[str, int]:
        return {
            "count": count,
            "page_count": math.ceil(count / self.per_page) if count else 0,
            "page_number": self.page,
            "page_size": self.per_page,
        }


def _id_key(record: Mapping[str, Any]) -> int:
    return int(record["id"])


def order(records: list[dict[str, Any]], spec: str | None, default: str) -> list[dict[str, Any]]:
    """Sort by ``field:asc|desc`` (the vendor's ``order`` parameter); ties break by id."""
    name, _, direction = (spec or default).partition(":")
    reverse = direction == "desc"
    ordered = sorted(records, key=_id_key, reverse=reverse)
    return sorted(ordered, key=lambda r: _sort_key(r.get(name)), reverse=reverse)


def _sort_key(value: Any) -> tuple[bool, int, str]:
    """Numbers sort as numbers, everything else as text; missing values last."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (False, value, "")
    return (value is None, 0, "" if value is None else str(value))


@dataclass
class Envelope:
    """One response: the primary records of this page plus sideloaded associations."""

    key: str
    count: int
    paging: Paging
    records: list[dict[str, Any]]
    sideloads: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def sideload(self, key: str, records: Iterable[dict[str, Any]]) -> None:
        bucket = self.sideloads.setdefault(key, {})
        for record in records:
            bucket[str(record["id"])] = record

    def body(self) -> dict[str, Any]:
        primary = {str(r["id"]): r for r in self.records}
        body: dict[str, Any] = {
            "count": self.count,
            "results": [{"key": self.key, "id": str(r["id"])} for r in self.records],
            self.key: primary,
            "meta": self.paging.meta(self.count),
        }
        for key, bucket in self.sideloads.items():
            if key == self.key:  # associations of the same type share the primary key
                body[key] = {**bucket, **primary}
            else:
                body[key] = bucket
        return body


def single(key: str, records: list[dict[str, Any]]) -> Envelope:
    """The envelope of a create/update/show: the records themselves, one page."""
    return Envelope(
        key=key,
        count=len(records),
        paging=Paging(page=1, per_page=max(DEFAULT_PER_PAGE, len(records))),
        records=records,
    )


def check_date(errors: FieldErrors, body: Mapping[str, Any], name: str) -> None:
    value = body.get(name)
    if value is None:
        return
    try:
        date.fromisoformat(str(value))
    except ValueError:
        errors.add(name, f"{name} must be a date in ISO 8601 format (YYYY-MM-DD)")


def check_enum(
    errors: FieldErrors, body: Mapping[str, Any], name: str, allowed: Iterable[str]
) -> None:
    value = body.get(name)
    options = tuple(allowed)
    if value is not None and value not in options:
        errors.add(name, f"{name} must be one of: {', '.join(options)}")


def check_int(
    errors: FieldErrors, body: Mapping[str, Any], name: str, minimum: int | None = None
) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.add(name, f"{name} must be an integer")
        return
    try:
        number = int(value)
    except ValueError:
        errors.add(name, f"{name} must be an integer")
        return
    if minimum is not None and number < minimum:
        errors.add(name, f"{name} must be greater than or equal to {minimum}")


def check_text(
    errors: FieldErrors,
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    message: str | None = None,
    max_length: int | None = None,
) -> None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(name, message or f"{name} can't be blank")
        return
    if not isinstance(value, str):
        errors.add(name, f"{name} must be a string")
    elif max_length is not None and len(value) >= max_length:
        errors.add(name, f"{name} must be less than {max_length} characters")
