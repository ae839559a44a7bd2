"""JSON with exact decimals: amounts are parsed as ``Decimal`` and written as plain numbers.

NetSuite sends amounts as JSON numbers; parsing them as floats would lose cents, so the
sandbox reads every number with a fraction as ``Decimal`` and writes ``Decimal`` back as a
number literal (``150.00``), never as a string. Responses are written by orjson (a ``Decimal``
as a ``Fragment`` holding its literal); whatever orjson would refuse or write differently
(non-text keys, integers beyond 64 bits, dates) is written by the standard library as before.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import orjson
from fastapi.responses import JSONResponse

_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_MARK = "@@dec@@"
_MARKED = re.compile(r'"' + _MARK + r"([-+0-9.eE]+)" + _MARK + '"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value}{_MARK}"
    return str(value)


def dumps(value: Any) -> str:
    """``json.dumps`` that writes ``Decimal`` as an exact number literal."""
    return _MARKED.sub(r"\1", json.dumps(value, default=_default, separators=(",", ":")))


def _fragment(value: Any) -> Any:
    if type(value) is Decimal and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError(type(value).__name__)  # the standard library's way, as before


def dump_bytes(value: Any) -> bytes:
    """The UTF-8 JSON of :func:`dumps` (the same values; non-ASCII text left unescaped)."""
    try:
        return orjson.dumps(value, default=_fragment, option=_PASSTHROUGH)
    except TypeError:
        return dumps(value).encode("utf-8")


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


class ExactJSONResponse(JSONResponse):
    """A JSON response whose Decimal amounts stay exact."""

    def render(self, content: Any) -> bytes:
        return dump_bytes(content)
