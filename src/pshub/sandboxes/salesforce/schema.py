"""The sObjects the sandbox knows, their fields, Salesforce ids, and the REST error shape.

Error bodies follow "Status Codes and Error Responses" of the REST API Developer Guide: a JSON
array of ``{"message", "errorCode", "fields"}``. Ids follow the 15/18-character form (3-char key
prefix, case-sensitive body, 3-char case-safe checksum suffix).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
ORG_ID = "00D8d000000PSHUB"
USER_ID = "0058d000000INTEG"
ORG_CURRENCY = "USD"


class SalesforceApiError(Exception):
    """A request the sandbox refuses, rendered as a Salesforce error array."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}

    def body(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            error["fields"] = self.fields
        return [error]


def id18(sf_id: str) -> str:
    """The 18-character, case-insensitive-safe form of a 15- or 18-character id."""
    if len(sf_id) == 18:
        return sf_id
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(sf_id[chunk * 5 : chunk * 5 + 5]) if ch.isupper())
        suffix += _CHECKSUM_ALPHABET[bits]
    return sf_id + suffix


def looks_like_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def make_id(prefix: str, n: int) -> str:
    """An 18-char id: key prefix, a pod code, and a base-62 serial number."""
    digits = ""
    while n:
        n, rem = divmod(n, 62)
        digits = _BASE62[rem] + digits
    return id18(f"{prefix}8d{digits.rjust(10, '0')}")


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # id, string, picklist, reference, currency, double, percent, date, datetime, boolean
    required: bool = False  # on create
    writable: bool = True
    external_id: bool = False
    reference_to: str | None = None


@dataclass(frozen=True)
class SObject:
    name: str
    prefix: str
    fields: tuple[Field, ...]
    by_lower: dict[str, Field] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_lower.update({f.name.lower(): f for f in self.fields})

    def field(self, name: str) -> Field | None:
        return self.by_lower.get(name.lower())


_SYSTEM = (
    Field("Id", "id", writable=False),
    Field("IsDeleted", "boolean", writable=False),
    Field("CreatedDate", "datetime", writable=False),
    Field("LastModifiedDate", "datetime", writable=False),
    Field("SystemModstamp", "datetime", writable=False),
)

SOBJECTS: dict[str, SObject] = {
    "Account": SObject(
        "Account",
        "001",
        (
            *_SYSTEM,
            Field("Name", "string", required=True),
            Field("ParentId", "reference", reference_to="Account"),
            Field("BillingCountry", "string"),
            Field("CurrencyIsoCode", "picklist"),
            Field("PSHub_Id__c", "string", external_id=True),
        ),
    ),
    "Opportunity": SObject(
        "Opportunity",
        "006",
        (
            *_SYSTEM,
            Field("Name", "string", required=True),
            Field("AccountId", "reference", reference_to="Account"),
            Field("StageName", "picklist", required=True),
            Field("Probability", "percent"),
            Field("Amount", "currency"),
            Field("CurrencyIsoCode", "picklist"),
            Field("CloseDate", "date", required=True),
            Field("IsClosed", "boolean", writable=False),
            Field("IsWon", "boolean", writable=False),
            Field("Legal_Entity__c", "picklist"),
            Field("Service_Line__c", "picklist"),
            Field("Billing_Model__c", "picklist"),  # unrestricted: bad values are stored as given
            Field("Rate_Card__c", "string"),
            Field("Start_Date__c", "date"),
            Field("End_Date__c", "date"),
            Field("PSHub_Id__c", "string", external_id=True),
            Field("PSHub_Contract_Id__c", "string"),
            Field("PSA_Project_Id__c", "string"),
            Field("ERP_Customer_Id__c", "string"),
            Field("ERP_Job_Id__c", "string"),
            Field("Provisioning_Status__c", "picklist"),
            # Billing written back by the hub (milestone invoices and their payments).
            Field("Last_Invoice_Number__c", "string"),
            Field("Last_Invoice_Status__c", "picklist"),
            Field("Invoiced_Amount__c", "currency"),
            Field("Paid_Amount__c", "currency"),
            Field("Billing_Status__c", "picklist"),
            # Change orders on a won deal: approving one relays a change event (events.py).
            Field("Change_Order_Number__c", "string"),
            Field("Change_Order_Status__c", "picklist"),
        ),
    ),
    "OpportunityLineItem": SObject(
        "OpportunityLineItem",
        "00k",
        (
            *_SYSTEM,
            Field("OpportunityId", "reference", required=True, reference_to="Opportunity"),
            Field("Name", "string", writable=False),  # derived, as in Salesforce
            Field("Description", "string"),
            Field("Quantity", "double", required=True),
            Field("UnitPrice", "currency"),
            Field("TotalPrice", "currency"),
            Field("ServiceDate", "date"),
            Field("CurrencyIsoCode", "picklist", writable=False),  # inherited from the opportunity
            Field("PSHub_Id__c", "string", external_id=True),
        ),
    ),
}

PREFIXES = {s.prefix: s.name for s in SOBJECTS.values()}

# Default probability per stage, as Salesforce's standard sales process sets it.
STAGE_PROBABILITY: dict[str, int] = {
    "Prospecting": 10,
    "Qualification": 10,
    "Needs Analysis": 20,
    "Value Proposition": 50,
    "Id. Decision Makers": 60,
    "Perception Analysis": 70,
    "Proposal/Price Quote": 75,
    "Negotiation/Review": 90,
    "Closed Won": 100,
    "Closed Lost": 0,
}


def sobject(name: str) -> SObject:
    for key, value in SOBJECTS.items():
        if key.lower() == name.lower():
            return value
    raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")


def coerce(obj: SObject, fdef: Field, value: Any) -> Any:
    """A request value in the stored form (numbers as decimal strings), or a 400."""
    if value is None:
        return None
    kind = fdef.type
    if kind in ("currency", "double", "percent"):
        return _number(obj, fdef, value)
    if kind == "date":
        return _date(obj, fdef, value)
    if kind == "reference":
        if not isinstance(value, str) or not looks_like_id(value):
            raise SalesforceApiError(
                400,
                "MALFORMED_ID",
                f"{obj.name} {fdef.name}: id value of incorrect type: {value}",
                [fdef.name],
            )
        return id18(value)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _parse_error(obj, fdef, value, "string")
    return str(value)


def _number(obj: SObject, fdef: Field, value: Any) -> str:
    if isinstance(value, bool):
        raise _parse_error(obj, fdef, value, "double")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise _parse_error(obj, fdef, value, "double") from exc
    if not number.is_finite():
        raise _parse_error(obj, fdef, value, "double")
    return str(number)


def _date(obj: SObject, fdef: Field, value: Any) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise _parse_error(obj, fdef, value, "date") from exc


def _parse_error(obj: SObject, fdef: Field, value: Any, kind: str) -> SalesforceApiError:
    return SalesforceApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from VALUE_STRING value {value!r} or request "
        f"may be missing a required field at [{obj.name}.{fdef.name}]",
        [fdef.name],
    )


def typed(fdef: Field, stored: Any) -> Any:
    """A stored value as it goes out on the wire (Decimal for numbers)."""
    if stored is None:
        return None
    if fdef.type in ("currency", "double", "percent"):
        return Decimal(stored)
    return stored


def now_iso() -> str:
    """Salesforce datetime format: 2024-05-01T12:00:00.000+0000."""
    stamp = dt.datetime.now(dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"
