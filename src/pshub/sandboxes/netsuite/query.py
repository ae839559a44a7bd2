"""The ``q`` filter of record collections: ``field OPERATOR value`` joined by AND / OR.

Followed: NetSuite Help "Record Collection Filtering": e.g. ``q=email START_WITH barbara``,
``q=companyName IS "Acme Inc."``, ``q=id ANY_OF [1, 2]``; values may be quoted. AND binds
tighter than OR. Dates and date-times (ISO text) compare with AFTER, BEFORE, ON, ON_OR_AFTER,
ON_OR_BEFORE; numbers with EQUAL, GREATER, GREATER_OR_EQUAL, LESS, LESS_OR_EQUAL.
Reference fields compare by internal id. A malformed query answers
400 INVALID_PARAMETER with ``o:errorQueryParam: "q"``, as NetSuite does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from pshub.sandboxes.netsuite.errors import NsError

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\[[^\]]*\])|([^\s"]+))')
_UNARY = {"EMPTY", "EMPTY_NOT"}

Predicate = Callable[[dict[str, Any]], bool]


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("id", ""))
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[str, str], bool]:
    """Numbers compare as numbers, anything else (ISO dates) as text; empty never matches."""

    def run(a: str, b: str) -> bool:
        if a == "":
            return False
        x, y = _number(a), _number(b)
        return test(x, y) if x is not None and y is not None else test(a, b)

    return run


_OPS: dict[str, Callable[[str, str], bool]] = {
    "IS": lambda a, b: a.lower() == b.lower(),
    "EQUAL": _compare(lambda a, b: a == b),
    "GREATER": _compare(lambda a, b: a > b),
    "GREATER_OR_EQUAL": _compare(lambda a, b: a >= b),
    "LESS": _compare(lambda a, b: a < b),
    "LESS_OR_EQUAL": _compare(lambda a, b: a <= b),
    "AFTER": lambda a, b: a != "" and a[: len(b)] > b,
    "BEFORE": lambda a, b: a != "" and a[: len(b)] < b,
    "ON": lambda a, b: a != "" and a[: len(b)] == b,
    "ON_OR_AFTER": lambda a, b: a != "" and a[: len(b)] >= b,
    "ON_OR_BEFORE": lambda a, b: a != "" and a[: len(b)] <= b,
    "IS_NOT": lambda a, b: a.lower() != b.lower(),
    "START_WITH": lambda a, b: a.lower().startswith(b.lower()),
    "DOES_NOT_START_WITH": lambda a, b: not a.lower().startswith(b.lower()),
    "END_WITH": lambda a, b: a.lower().endswith(b.lower()),
    "CONTAIN": lambda a, b: b.lower() in a.lower(),
    "DOES_NOT_CONTAIN": lambda a, b: b.lower() not in a.lower(),
    "ANY_OF": lambda a, b: a in {v.strip().strip('"') for v in b.strip("[]").split(",")},
    "EMPTY": lambda a, _b: a == "",
    "EMPTY_NOT": lambda a, _b: a != "",
}


def _bad(message: str) -> NsError:
    return NsError.one(
        400,
        "INVALID_PARAMETER",
        f"Invalid search query. Detailed unprocessed description follows. {message}",
        query_param="q",
    )


def _tokens(q: str) -> list[str]:
    out, pos = [], 0
    while pos < len(q.rstrip()):
        match = _TOKEN.match(q, pos)
        if match is None or match.end() == pos:
            raise _bad(f"Unexpected text at position {pos}.")
        quoted, listed, bare = match.groups()
        out.append(quoted.replace('\\"', '"') if quoted is not None else listed or bare)
        pos = match.end()
    return out


def compile_query(q: str, known_fields: set[str]) -> Predicate:
    """A predicate over stored records for the query ``q``."""
    groups: list[list[Predicate]] = [[]]
    tokens = _tokens(q)
    i = 0
    while i < len(tokens):
        if len(tokens) < i + 2:
            raise _bad("A condition needs a field and an operator.")
        name, op = tokens[i], tokens[i + 1].upper()
        if name not in known_fields:
            raise _bad(f"Search error occurred: Unknown identifier '{name}'.")
        if op not in _OPS:
            raise _bad(f"Unknown operator '{tokens[i + 1]}'.")
        arity = 2 if op in _UNARY else 3
        if len(tokens) < i + arity:
            raise _bad(f"Operator {op} needs a value.")
        value = tokens[i + 2] if arity == 3 else ""
        groups[-1].append(_condition(name, _OPS[op], value))
        i += arity
        if i < len(tokens):
            joiner = tokens[i].upper()
            if joiner not in ("AND", "OR"):
                raise _bad(f"Expected AND or OR, found '{tokens[i]}'.")
            if joiner == "OR":
                groups.append([])
            i += 1
            if i == len(tokens):
                raise _bad(f"Nothing follows {joiner}.")
    return lambda rec: any(all(c(rec) for c in group) for group in groups)


def _condition(name: str, op: Callable[[str, str], bool], value: str) -> Predicate:
    return lambda rec: op(_text(rec.get(name)), value)
