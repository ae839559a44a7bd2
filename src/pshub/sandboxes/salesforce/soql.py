"""A SOQL subset: ``SELECT f, ... | COUNT() FROM Obj [WHERE ...] [ORDER BY f [ASC|DESC], ...]
[LIMIT n] [OFFSET n]``.

WHERE takes ``AND``/``OR``/``NOT``, parentheses, ``= != <> < <= > >=``, ``[NOT] IN (...)``,
``LIKE``, with quoted strings, numbers, unquoted dates, TRUE/FALSE/NULL (SOQL and SOSL
Reference, "Comparison Operators" and "Date Formats"). String equality is case-insensitive, as
in SOQL. Errors are MALFORMED_QUERY (with the "ERROR at Row:1:Column:n" pointer), INVALID_FIELD
and INVALID_TYPE, as the REST API reports them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pshub.sandboxes.salesforce.schema import (
    SOBJECTS,
    Field,
    SalesforceApiError,
    SObject,
    id18,
    looks_like_id,
)

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<date>\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2}))?)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
""",
    re.VERBOSE,
)

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int

    def kw(self, *words: str) -> bool:
        return self.kind == "ident" and self.text.upper() in words


@dataclass(frozen=True)
class Query:
    sobject: SObject
    fields: tuple[Field, ...]  # empty for COUNT()
    where: Predicate
    order: tuple[tuple[Field, bool], ...]  # (field, descending)
    limit: int | None
    offset: int

    def run(self, rows: list[Row]) -> list[Row]:
        found = [r for r in rows if self.where(r)]
        for fdef, desc in reversed(self.order):  # stable sorts, last key first
            present = [r for r in found if r.get(fdef.name) is not None]
            empty = [r for r in found if r.get(fdef.name) is None]
            present.sort(key=_sorter(fdef), reverse=desc)
            found = present + empty if desc else empty + present  # ASC: nulls first
        found = found[self.offset :]
        return found if self.limit is None else found[: self.limit]


def parse(text: str) -> Query:
    return _Parser(text).query()


def _sorter(fdef: Field) -> Callable[[Row], Any]:
    return lambda row: _key(fdef, row[fdef.name])


def _key(fdef: Field, value: Any) -> Any:
    if fdef.type in ("currency", "double", "percent"):
        return Decimal(str(value))
    return (
        value.lower() if isinstance(value, str) and fdef.type in ("string", "picklist") else value
    )


def _tokens(text: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _malformed(text, pos, f"unexpected token: '{text[pos]}'")
        kind = match.lastgroup or ""
        if kind != "ws":
            out.append(Token(kind, match.group(), pos))
        pos = match.end()
    out.append(Token("end", "", len(text)))
    return out


def _malformed(text: str, pos: int, detail: str) -> SalesforceApiError:
    pointer = " " * pos + "^"
    return SalesforceApiError(
        400, "MALFORMED_QUERY", f"\n{text}\n{pointer}\nERROR at Row:1:Column:{pos + 1}\n{detail}"
    )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.obj: SObject | None = None

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def next(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def fail(self, detail: str | None = None) -> SalesforceApiError:
        token = self.tok
        shown = token.text or "<EOF>"
        return _malformed(self.text, token.pos, detail or f"unexpected token: '{shown}'")

    def expect_kw(self, *words: str) -> Token:
        if not self.tok.kw(*words):
            raise self.fail()
        return self.next()

    def expect(self, kind: str, text: str | None = None) -> Token:
        if self.tok.kind != kind or (text is not None and self.tok.text != text):
            raise self.fail()
        return self.next()

    def query(self) -> Query:
        self.expect_kw("SELECT")
        names = self.select_list()
        self.expect_kw("FROM")
        obj_tok = self.expect("ident")
        self.obj = _sobject(obj_tok.text)
        fields = tuple(self.field(t) for t in names)
        where = self.expr() if self.tok.kw("WHERE") and self.next() else (lambda _r: True)
        order = self.order_by() if self.tok.kw("ORDER") else ()
        limit = self.int_clause("LIMIT")
        offset = self.int_clause("OFFSET") or 0
        if self.tok.kind != "end":
            raise self.fail()
        return Query(self.obj, fields, where, order, limit, offset)

    def select_list(self) -> list[Token]:
        if self.tok.kw("COUNT"):
            self.next()
            self.expect("punct", "(")
            self.expect("punct", ")")
            return []
        names = [self.expect("ident")]
        while self.tok.text == ",":
            self.next()
            names.append(self.expect("ident"))
        return names

    def field(self, token: Token) -> Field:
        assert self.obj is not None
        fdef = self.obj.field(token.text)
        if fdef is None:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"\n{self.text}\n{' ' * token.pos}^\nERROR at Row:1:Column:{token.pos + 1}\n"
                f"No such column '{token.text}' on entity '{self.obj.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the custom "
                "field name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )
        return fdef

    def order_by(self) -> tuple[tuple[Field, bool], ...]:
        self.expect_kw("ORDER")
        self.expect_kw("BY")
        keys = [self.order_key()]
        while self.tok.text == ",":
            self.next()
            keys.append(self.order_key())
        return tuple(keys)

    def order_key(self) -> tuple[Field, bool]:
        fdef = self.field(self.expect("ident"))
        desc = self.tok.kw("DESC")
        if self.tok.kw("ASC", "DESC"):
            self.next()
        return fdef, desc

    def int_clause(self, word: str) -> int | None:
        if not self.tok.kw(word):
            return None
        self.next()
        token = self.expect("number")
        if "." in token.text or token.text.startswith("-"):
            raise _malformed(self.text, token.pos, f"unexpected token: '{token.text}'")
        return int(token.text)

    # -- WHERE ---------------------------------------------------------------------------

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.tok.kw("OR"):
            self.next()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.tok.kw("AND"):
            self.next()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def factor(self) -> Predicate:
        if self.tok.text == "(":
            self.next()
            inner = self.expr()
            self.expect("punct", ")")
            return inner
        if self.tok.kw("NOT"):
            self.next()
            negated = self.factor()
            return lambda r: not negated(r)
        return self.condition()

    def condition(self) -> Predicate:
        fdef = self.field(self.expect("ident"))
        if self.tok.kw("NOT", "IN"):
            negate = self.tok.kw("NOT") and bool(self.next())
            self.expect_kw("IN")
            values = self.value_list(fdef)
            return lambda r: (_norm(fdef, r.get(fdef.name)) in values) != negate
        if self.tok.kw("LIKE"):
            self.next()
            pattern = _like(self.literal(fdef))
            return lambda r: (
                r.get(fdef.name) is not None and bool(pattern.fullmatch(str(r[fdef.name])))
            )
        op = self.expect("op").text
        value = self.literal(fdef)
        return lambda r: _compare(op, _norm(fdef, r.get(fdef.name)), value)

    def value_list(self, fdef: Field) -> set[Any]:
        self.expect("punct", "(")
        values = {self.literal(fdef)}
        while self.tok.text == ",":
            self.next()
            values.add(self.literal(fdef))
        self.expect("punct", ")")
        return values

    def literal(self, fdef: Field) -> Any:
        token = self.next()
        if token.kw("NULL"):
            return None
        kind = fdef.type
        if kind in ("currency", "double", "percent") and token.kind == "number":
            return Decimal(token.text)
        if kind in ("date", "datetime") and token.kind == "date":
            return token.text
        if kind == "boolean" and token.kw("TRUE", "FALSE"):
            return token.text.upper() == "TRUE"
        if kind in ("string", "picklist", "id", "reference") and token.kind == "string":
            return _norm(fdef, _unquote(token.text))
        self.i -= 1
        raise self.fail(
            f"value of filter criterion for field '{fdef.name}' must be of type "
            f"{kind} and should {'' if kind in ('string', 'picklist') else 'not '}"
            "be enclosed in quotes"
        )


def _sobject(name: str) -> SObject:
    for key, obj in SOBJECTS.items():
        if key.lower() == name.lower():
            return obj
    raise SalesforceApiError(
        400,
        "INVALID_TYPE",
        f"sObject type '{name}' is not supported. If "
        "you are attempting to use a custom object, be sure to append the "
        "'__c' after the entity name.",
    )


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _norm(fdef: Field, value: Any) -> Any:
    """The comparable form of a record value or literal of ``fdef``."""
    if value is None:
        return None
    if fdef.type in ("currency", "double", "percent"):
        return Decimal(str(value))
    if fdef.type in ("id", "reference"):
        return id18(value) if looks_like_id(value) else value
    if fdef.type in ("string", "picklist"):
        return str(value).lower()
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("=", "!=", "<>"):
        return bool(left == right) == (op == "=")
    if left is None or right is None:
        return False
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _like(pattern: str) -> re.Pattern[str]:
    parts = (".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
