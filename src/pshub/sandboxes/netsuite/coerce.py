"""Field values as a request body sends them -> as the sandbox stores them, or :data:`BAD`.

One function per field, chosen once by kind (``FieldSpec.coerce``), so a write does not walk the
kinds for every value. What each kind accepts: ``ref`` ``{"id": digits}`` (an integer id is
read as its digits); ``bool`` true/false; ``number`` any JSON number; ``decimal`` an exact
number (:func:`to_decimal`); ``date`` an ISO date (stored as ``YYYY-MM-DD``); ``email`` an
address; ``string``/``email`` within ``max_length``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

BAD: Any = object()  # the value cannot be stored in the field
Coerce = Callable[[Any], Any]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def to_decimal(value: Any) -> Decimal | None:
    """An exact number from a JSON number (parsed as Decimal), an int or a numeric string."""
    if type(value) is Decimal:  # the usual case; Decimals are immutable
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def _ref(raw: Any) -> Any:
    ident = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    return {"id": ident} if isinstance(ident, str) and ident.isdigit() else BAD


def _bool(raw: Any) -> Any:
    return raw if isinstance(raw, bool) else BAD


def _number(raw: Any) -> Any:
    ok = isinstance(raw, int | float | Decimal) and not isinstance(raw, bool)
    return raw if ok else BAD


def _decimal(raw: Any) -> Any:
    number = to_decimal(raw)
    return BAD if number is None else number


def _date(raw: Any) -> Any:
    if not isinstance(raw, str):
        return BAD
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        return BAD


def _text(max_length: int | None, email: bool) -> Coerce:
    def coerce(raw: Any) -> Any:
        if not isinstance(raw, str):
            return BAD
        if email and not _EMAIL.match(raw):
            return BAD
        if max_length is not None and len(raw) > max_length:
            return BAD
        return raw

    return coerce


_BY_KIND: dict[str, Coerce] = {
    "ref": _ref,
    "bool": _bool,
    "number": _number,
    "decimal": _decimal,
    "date": _date,
}


def coercer(kind: str, max_length: int | None) -> Coerce:
    """The function that checks and converts a value of a field of this kind."""
    return _BY_KIND.get(kind) or _text(max_length, kind == "email")
