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


def dumps(value: Any) -> bytes:
    """The body bytes, every Decimal written as an exact number."""
    text = json.dumps(value, default=_default, separators=(",", ":"))
    return _MARKED.sub(r"\1", text).encode("utf-8")


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)
