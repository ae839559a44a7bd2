"""JSON with exact decimals: amounts are parsed as ``Decimal`` and written as plain numbers.

NetSuite sends amounts as JSON numbers; parsing them as floats would lose cents, so the
sandbox reads every number with a fraction as ``Decimal`` and writes ``Decimal`` back as a
number literal (``150.00``), never as a string.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from fastapi.responses import JSONResponse

_MARK = "@@dec@@"
_MARKED = re.compile(r'"' + _MARK + r"([-+0-9.eE]+)" + _MARK + '"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value}{_MARK}"
    return str(value)


def dumps(value: Any) -> str:
    """``json.dumps`` that writes ``Decimal`` as an exact number literal."""
    return _MARKED.sub(r"\1", json.dumps(value, default=_default, separators=(",", ":")))


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


class ExactJSONResponse(JSONResponse):
    """A JSON response whose Decimal amounts stay exact."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
