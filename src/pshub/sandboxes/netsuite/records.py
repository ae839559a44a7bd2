"""A registry of record types: fields, references and rules, so a new type is data, not code.

Each :class:`RecordType` lists its body fields (kind, label, required, referenced type) and
its record rules (functions over the merged record). :func:`check_fields` turns a request body
into stored values, or the NetSuite error details that refuse it. Later record types (time
bills, invoices, journal entries ...) register themselves the same way.

Kinds: ``decimal`` fields hold exact amounts (``Decimal``; JSON numbers are parsed exactly);
``sublist`` fields hold lines in the REST shape ``{"items": [{...}, ...]}``, each line
checked against ``FieldSpec.lines``; a sublist in a body replaces the stored lines (as
NetSuite's ``replace=<sublist>`` query parameter does). ``computed`` fields are answered by
the sandbox (``status``, ``amountRemaining`` ...) and ignored when a client sends them back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol

from pshub.sandboxes.netsuite.coerce import BAD, Coerce, coercer, to_decimal
from pshub.sandboxes.netsuite.errors import ErrorDetail

__all__ = ["to_decimal"]  # re-exported: the ledger and rendering read amounts with it

FieldKind = Literal["string", "email", "bool", "date", "ref", "number", "decimal", "sublist"]
# Body keys a client may send back from a GET without meaning to change them.
IGNORED_KEYS = frozenset({"links", "dateCreated", "lastModifiedDate"})


class Lookup(Protocol):
    """What rules may read: other stored records."""

    def get(self, rtype: str, rid: str) -> dict[str, Any] | None: ...

    def find(self, rtype: str, **equals: Any) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind = "string"
    label: str = ""  # the UI label NetSuite uses in messages ("Company Name")
    required: bool = False
    ref: str | None = None  # record type a reference must point at; None accepts any id
    max_length: int | None = None
    unique: bool = False  # no two records of the type may share a value
    lines: Mapping[str, FieldSpec] | None = None  # the line fields of a sublist
    computed: bool = False  # set by the sandbox; ignored in request bodies
    indexed: bool = False  # kept in the field index (references always are)

    @cached_property
    def coerce(self) -> Coerce:
        """Request value -> stored value, or ``BAD`` (see :mod:`.coerce`)."""
        return coercer(self.kind, self.max_length)


@dataclass(frozen=True)
class RuleContext:
    rtype: RecordType
    record: dict[str, Any]  # the record as it would be stored (existing merged with the body)
    rid: str | None  # internal id; None while creating
    store: Lookup


Rule = Callable[[RuleContext], list[ErrorDetail]]
Defaulter = Callable[[dict[str, Any], Lookup], None]
Guard = Callable[[dict[str, Any], dict[str, Any]], list[ErrorDetail]]  # (stored, would-be)


@dataclass(frozen=True)
class RecordType:
    name: str
    fields: Mapping[str, FieldSpec]
    ref_name: str  # field shown as ``refName`` when another record references this one
    id_sequence: str = ""  # records of types sharing a sequence share the internal-id space
    custom_prefix: str | None = None  # custom fields allowed on the type ("custentity_")
    read_only: bool = False
    defaults: tuple[Defaulter, ...] = ()
    rules: tuple[Rule, ...] = ()
    guards: tuple[Guard, ...] = ()  # checks of an update against the stored record
    after_save: tuple[Effect, ...] = ()  # effects on other records, in the same transaction
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sequence(self) -> str:
        return self.id_sequence or self.name

    def references(self) -> list[FieldSpec]:
        return self._references

    def indexed(self) -> list[str]:
        """Fields kept in the field index: references and flagged fields."""
        return self._indexed

    # Derived once per type (every write asks): the fields never change after registration.
    @cached_property
    def _references(self) -> list[FieldSpec]:
        return [f for f in self.fields.values() if f.kind == "ref"]

    @cached_property
    def _indexed(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.kind == "ref" or f.indexed]

    @cached_property
    def has_sublists(self) -> bool:
        return any(f.kind == "sublist" for f in self.fields.values())

    @cached_property
    def body_fields(self) -> dict[str, FieldSpec]:
        """The fields a body may set by name (every field but the ignored keys)."""
        return {n: f for n, f in self.fields.items() if n not in IGNORED_KEYS}

    @cached_property
    def required(self) -> list[FieldSpec]:
        return [f for f in self.fields.values() if f.required]

    @cached_property
    def checked_references(self) -> list[FieldSpec]:
        """References to a given record type (the target must exist)."""
        return [f for f in self._references if f.ref]

    @cached_property
    def sublists(self) -> list[FieldSpec]:
        return [f for f in self.fields.values() if f.kind == "sublist"]

    @cached_property
    def unique(self) -> list[FieldSpec]:
        return [f for f in self.fields.values() if f.unique]


class Writer(Lookup, Protocol):
    """What after-save effects may do: read, and rewrite other records."""

    def replace(self, rtype: str, record: dict[str, Any]) -> None: ...


Effect = Callable[[dict[str, Any], dict[str, Any] | None, Writer], None]  # (saved, before)


REGISTRY: dict[str, RecordType] = {}


def register(rtype: RecordType) -> RecordType:
    REGISTRY[rtype.name] = rtype
    return rtype


def fields(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {spec.name: spec for spec in specs}


def invalid(name: str, value: object) -> ErrorDetail:
    """NetSuite's wording for a value (or a reference) it cannot accept."""
    return ErrorDetail(
        f"Error while accessing a resource. You have entered an Invalid Field "
        f"Value {value} for the following field: {name}",
        "INVALID_CONTENT",
        path=name,
    )


def check_fields(
    rtype: RecordType, body: Mapping[str, Any]
) -> tuple[dict[str, Any], list[ErrorDetail]]:
    """Body -> (values to store, errors). ``None`` clears a field; unknown names are refused."""
    values: dict[str, Any] = {}
    errors: list[ErrorDetail] = []
    named = rtype.body_fields
    for name, raw in body.items():
        spec = named.get(name)
        if spec is None and name in IGNORED_KEYS:
            continue
        if spec is None and rtype.custom_prefix and name.startswith(rtype.custom_prefix):
            spec = FieldSpec(name)
        if spec is None:
            errors.append(
                ErrorDetail(
                    f"Error while accessing a resource. Invalid field name "
                    f"'{name}' for record type {rtype.name}.",
                    "INVALID_CONTENT",
                    path=name,
                )
            )
            continue
        if spec.computed:
            continue
        if raw is None:
            values[name] = None
            continue
        if spec.kind == "sublist":
            values[name] = _sublist(spec, raw, errors)
            continue
        value = spec.coerce(raw)
        if value is BAD:
            errors.append(invalid(name, raw))
        else:
            values[name] = value
    return values, errors


def _sublist(spec: FieldSpec, raw: Any, errors: list[ErrorDetail]) -> dict[str, Any]:
    """``{"items": [...]}`` -> checked lines; errors point at ``<sublist>.items[i].<field>``."""
    items = raw.get("items") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        errors.append(invalid(spec.name, raw))
        return {"items": []}
    lines = []
    for n, item in enumerate(items):
        line: dict[str, Any] = {}
        for name, value in item.items():
            where = f"{spec.name}.items[{n}].{name}"
            line_spec = (spec.lines or {}).get(name)
            if name in IGNORED_KEYS or (line_spec is not None and line_spec.computed):
                continue
            if line_spec is None:
                errors.append(
                    ErrorDetail(
                        f"Error while accessing a resource. Invalid field name '{name}' "
                        f"for sublist {spec.name}.",
                        "INVALID_CONTENT",
                        path=where,
                    )
                )
                continue
            coerced = None if value is None else line_spec.coerce(value)
            if coerced is BAD:
                errors.append(invalid(where, value))
            elif coerced is not None:
                line[name] = coerced
        lines.append(line)
    return {"items": lines}


def check_record(ctx: RuleContext) -> list[ErrorDetail]:
    """Required fields, then references, uniqueness and the type's own rules."""
    rec = ctx.record
    missing = [f for f in ctx.rtype.required if rec.get(f.name) in (None, "")]
    if missing:
        return [
            ErrorDetail(
                f"Please enter value(s) for: {f.label or f.name}", "USER_ERROR", path=f.name
            )
            for f in missing
        ]
    errors = [
        invalid(f.name, rec[f.name]["id"])
        for f in ctx.rtype.checked_references
        if rec.get(f.name) and ctx.store.get(f.ref or "", rec[f.name]["id"]) is None
    ]
    if ctx.rtype.sublists:
        errors += _line_references(ctx)
    if ctx.rtype.unique:
        errors += _uniqueness(ctx)
    if errors:
        return errors
    for rule in ctx.rtype.rules:
        errors += rule(ctx)
    return errors


def _uniqueness(ctx: RuleContext) -> list[ErrorDetail]:
    errors = []
    for spec in ctx.rtype.unique:
        value = ctx.record.get(spec.name)
        if value in (None, ""):
            continue
        clash = [
            r for r in ctx.store.find(ctx.rtype.name, **{spec.name: value}) if r["id"] != ctx.rid
        ]
        if clash:
            errors.append(
                ErrorDetail(
                    f"This entity already exists: {spec.label or spec.name} "
                    f"{value!r} is used by record {clash[0]['id']}.",
                    "USER_ERROR",
                    path=spec.name,
                )
            )
    return errors


def _line_references(ctx: RuleContext) -> list[ErrorDetail]:
    errors = []
    for spec in ctx.rtype.sublists:
        if not ctx.record.get(spec.name):
            continue
        for n, line in enumerate(ctx.record[spec.name]["items"]):
            for line_spec in (spec.lines or {}).values():
                ref = line.get(line_spec.name)
                if line_spec.ref and ref and ctx.store.get(line_spec.ref, ref["id"]) is None:
                    errors.append(invalid(f"{spec.name}.items[{n}].{line_spec.name}", ref["id"]))
    return errors
