"""JSON for NetSuite with exact amounts: ``Decimal`` out as number literals, numbers in as Decimal.

``httpx``'s ``json=`` cannot write Decimal and would read amounts as floats; the connector
encodes and decodes bodies here instead.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "@@dec@@"
_MARKED = re.compile(r'"' + _MARK + r"([-+0-9.eE]+)" + _MARK + '"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value}{_MARK}"
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _number(marked: re.Match[str]) -> str:
    return marked.group(1)


def dumps(value: Any) -> bytes:
    """The body bytes, every Decimal written as an exact number."""
    text = json.dumps(value, default=_default, separators=(",", ":"))
    # A function rather than the template r"\1": Python 3.11 expands a template in Python
    # code for every match, twice per time bill.
    return _MARKED.sub(_number, text).encode("utf-8")


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)
