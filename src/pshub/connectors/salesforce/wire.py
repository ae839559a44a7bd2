"""Request bodies as JSON with exact numbers: Decimal and Money go out with all their digits."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from pshub.domain.money import Money


def dumps(value: Any) -> str:
    """JSON text; Decimals (and Money amounts) are written as plain JSON numbers, dates as ISO."""
    if isinstance(value, Money):
        return format(value.amount, "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return json.dumps(value.isoformat())
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)
