"""sObject records in the sandbox state: validation, derived fields, upsert by external id.

Follows the REST API Developer Guide: "Create a Record", "Update a Record", "Insert or Update
(Upsert) a Record Using an External ID" (201 on insert; 200 with ``created: false`` on update
from API 46.0, 204 before), and the error codes of "Status Codes and Error Responses".
Simplifications: no price books or products on line items; ``Amount`` is not rolled up from
line items (real Salesforce rolls it up when products exist).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.salesforce.schema import (
    ORG_CURRENCY,
    PREFIXES,
    STAGE_PROBABILITY,
    SalesforceApiError,
    SObject,
    coerce,
    id18,
    looks_like_id,
    make_id,
    now_iso,
    sobject,
    typed,
)

Change = Callable[[SObject, dict[str, Any] | None, dict[str, Any], list[str]], None]
"""(sobject, record before or None on create, record after, changed field names)."""

_CENT = Decimal("0.01")


def _not_found() -> SalesforceApiError:
    return SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")


class Records:
    """CRUD on the three sObjects, one SQLite transaction per write."""

    def __init__(self, state: SandboxState, on_change: Change | None = None) -> None:
        self.state = state
        self.on_change = on_change

    def get(self, obj: SObject, record_id: str, *, include_deleted: bool = False) -> dict[str, Any]:
        if not looks_like_id(record_id):
            raise SalesforceApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {record_id}",
            )
        if PREFIXES.get(record_id[:3]) != obj.name:
            raise SalesforceApiError(
                400,
                "MALFORMED_ID",
                f"{obj.name} ID: id value of incorrect type: {record_id}",
                ["Id"],
            )
        record = self.state.get(obj.name, id18(record_id))
        if record is None:
            raise _not_found()
        if record.get("IsDeleted") and not include_deleted:
            raise SalesforceApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return record

    def rows(self, obj: SObject, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        return [r for r in self.state.all(obj.name) if include_deleted or not r.get("IsDeleted")]

    def create(self, obj: SObject, body: Any) -> dict[str, Any]:
        with self.state.transaction():
            changes = self._validated(obj, body)
            stamp = now_iso()
            record: dict[str, Any] = {f.name: None for f in obj.fields}
            record.update(
                Id=make_id(obj.prefix, self.state.next_id(f"id:{obj.name}")),
                IsDeleted=False,
                CreatedDate=stamp,
                LastModifiedDate=stamp,
                SystemModstamp=stamp,
            )
            record.update(changes)
            self._derive(obj, record, changes, creating=True)
            self._check(obj, record)
            self.state.put(obj.name, record["Id"], record)
            if self.on_change:
                self.on_change(obj, None, record, [])
        return record

    def update(self, obj: SObject, record_id: str, body: Any) -> dict[str, Any]:
        with self.state.transaction():
            before = self.get(obj, record_id)
            changes = self._validated(obj, body)
            record = {**before, **changes}
            self._derive(obj, record, changes, creating=False)
            self._check(obj, record)
            changed = [k for k in record if record[k] != before.get(k)]
            record["LastModifiedDate"] = record["SystemModstamp"] = now_iso()
            self.state.put(obj.name, record["Id"], record)
            if self.on_change and changed:
                self.on_change(obj, before, record, [*changed, "LastModifiedDate"])
        return record

    def upsert(
        self, obj: SObject, field_name: str, value: str, body: Any
    ) -> tuple[bool, dict[str, Any]]:
        """(created, record) for ``PATCH sobjects/{type}/{field}/{value}``."""
        if not isinstance(body, dict):
            raise SalesforceApiError(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object"
            )
        if field_name.lower() == "id":
            return False, self.update(obj, value, body)
        fdef = obj.field(field_name)
        if fdef is None or not fdef.external_id:
            raise SalesforceApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        if body.get(fdef.name) not in (None, value):
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"{fdef.name} is specified in the URL and differs in the request body",
                [fdef.name],
            )
        with self.state.transaction():
            matches = self._by_external_id(obj, fdef.name, value)
            if len(matches) > 1:
                raise SalesforceApiError(
                    300,
                    "MULTIPLE_CHOICES",
                    f"More than one record found for {fdef.name} = {value}",
                    [fdef.name],
                )
            if matches:
                return False, self.update(obj, matches[0]["Id"], body)
            return True, self.create(obj, {**body, fdef.name: value})

    def delete(self, obj: SObject, record_id: str) -> None:
        with self.state.transaction():
            record = self.get(obj, record_id)
            record.update(IsDeleted=True, LastModifiedDate=now_iso())
            self.state.put(obj.name, record["Id"], record)

    def render(
        self, obj: SObject, record: dict[str, Any], version: str, fields: list[str] | None = None
    ) -> dict[str, Any]:
        """A record as the REST API returns it, with its ``attributes``."""
        out: dict[str, Any] = {
            "attributes": {
                "type": obj.name,
                "url": f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}",
            }
        }
        names = fields or [f.name for f in obj.fields]
        for name in names:
            fdef = obj.field(name)
            if fdef is None:
                raise SalesforceApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on sobject of type {obj.name}",
                    [name],
                )
            out[fdef.name] = typed(fdef, record.get(fdef.name))
        return out

    # -- validation ---------------------------------------------------------------------

    def _validated(self, obj: SObject, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise SalesforceApiError(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object"
            )
        changes: dict[str, Any] = {}
        for key, value in body.items():
            if key == "attributes":
                continue
            fdef = obj.field(key)
            if fdef is None:
                raise SalesforceApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{key}' on sobject of type {obj.name}",
                    [key],
                )
            if not fdef.writable:
                raise SalesforceApiError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {fdef.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set.",
                    [fdef.name],
                )
            changes[fdef.name] = coerce(obj, fdef, value)
            if fdef.type == "reference" and changes[fdef.name] is not None:
                self._check_reference(obj, fdef.name, fdef.reference_to or "", changes[fdef.name])
        return changes

    def _check_reference(self, obj: SObject, name: str, target: str, value: str) -> None:
        if PREFIXES.get(value[:3]) != target:
            raise SalesforceApiError(
                400, "MALFORMED_ID", f"{target} ID: id value of incorrect type: {value}", [name]
            )
        found = self.state.get(target, value)
        if found is None or found.get("IsDeleted"):
            raise SalesforceApiError(
                400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name]
            )

    def _check(self, obj: SObject, record: dict[str, Any]) -> None:
        missing = [f.name for f in obj.fields if f.required and record.get(f.name) in (None, "")]
        if missing:
            raise SalesforceApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        code = record.get("CurrencyIsoCode")
        if code is not None and not (len(code) == 3 and code.isalpha() and code.isupper()):
            raise SalesforceApiError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Currency ISO Code: invalid currency code: {code}",
                ["CurrencyIsoCode"],
            )
        ext = next((f for f in obj.fields if f.external_id), None)
        if ext is not None and record.get(ext.name):
            clash = [
                r["Id"]
                for r in self._by_external_id(obj, ext.name, record[ext.name])
                if r["Id"] != record["Id"]
            ]
            if clash:
                raise SalesforceApiError(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: "
                    f"{ext.name} duplicates value on record with id: "
                    f"{clash[0]}",
                    [ext.name],
                )

    def _by_external_id(self, obj: SObject, name: str, value: str) -> list[dict[str, Any]]:
        wanted = value.lower()  # external ids match case-insensitively by default
        return [r for r in self.rows(obj) if str(r.get(name) or "").lower() == wanted]

    # -- derived fields -----------------------------------------------------------------

    def _derive(
        self, obj: SObject, record: dict[str, Any], changes: dict[str, Any], *, creating: bool
    ) -> None:
        if obj.name == "Opportunity":
            _derive_opportunity(record, changes, creating)
        elif obj.name == "OpportunityLineItem":
            self._derive_line(record, changes, creating)
        elif record.get("CurrencyIsoCode") is None:
            record["CurrencyIsoCode"] = ORG_CURRENCY

    def _derive_line(self, record: dict[str, Any], changes: dict[str, Any], creating: bool) -> None:
        if "UnitPrice" in changes and "TotalPrice" in changes:
            raise _integrity("TotalPrice (cannot specify both unit price and total price)")
        if creating and "UnitPrice" not in changes and "TotalPrice" not in changes:
            raise _integrity("unknown (must specify either UnitPrice or TotalPrice)")
        quantity = Decimal(record["Quantity"]) if record.get("Quantity") is not None else None
        if quantity is None or quantity == 0:
            raise _integrity("Quantity (quantity must be nonzero)")
        if "TotalPrice" in changes and record["TotalPrice"] is not None:
            unit = Decimal(record["TotalPrice"]) / quantity
            record["UnitPrice"] = str(unit.quantize(_CENT, ROUND_HALF_UP))
        elif record.get("UnitPrice") is not None:
            total = Decimal(record["UnitPrice"]) * quantity
            record["TotalPrice"] = str(total.quantize(_CENT, ROUND_HALF_UP))
        opp = self.state.get("Opportunity", record["OpportunityId"]) or {}
        record["CurrencyIsoCode"] = opp.get("CurrencyIsoCode") or ORG_CURRENCY
        record["Name"] = f"{opp.get('Name', '')} {record.get('Description') or 'Line'}".strip()


def _derive_opportunity(record: dict[str, Any], changes: dict[str, Any], creating: bool) -> None:
    stage = record.get("StageName")
    stage_changed = creating or "StageName" in changes
    if stage_changed and "Probability" not in changes and stage in STAGE_PROBABILITY:
        record["Probability"] = str(STAGE_PROBABILITY[stage])
    record["IsClosed"] = stage in ("Closed Won", "Closed Lost")
    record["IsWon"] = stage == "Closed Won"
    if record.get("CurrencyIsoCode") is None:
        record["CurrencyIsoCode"] = ORG_CURRENCY


def _integrity(detail: str) -> SalesforceApiError:
    return SalesforceApiError(
        400, "FIELD_INTEGRITY_EXCEPTION", f"field integrity exception: {detail}", []
    )


def resolve(name: str) -> SObject:
    """The sObject named in a URL (case-insensitive), or a 404 NOT_FOUND."""
    return sobject(name)
