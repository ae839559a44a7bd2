"""The record types of the first release: subsidiary and currency (seeded, read-only),
customer (with hierarchy) and job (project).

Followed: NetSuite Records Catalog field ids (``companyName``, ``entityId``, ``externalId``,
``subsidiary``, ``parent``, ``currency``, ``email``, ``isPerson``, ``startDate``,
``projectedEndDate``, ``jobType``); custom entity fields are ``custentity_*``. Customers and
jobs are both entities, so they share one internal-id space. Rules: a sub-customer belongs to
its parent's subsidiary; a job belongs to its customer's subsidiary and, unless told
otherwise, takes the customer's currency.
"""

from __future__ import annotations

from typing import Any

from pshub.sandboxes.netsuite.errors import ErrorDetail
from pshub.sandboxes.netsuite.records import (
    FieldSpec,
    Lookup,
    RecordType,
    RuleContext,
    fields,
    register,
)

CURRENCY_NAMES = {
    "USD": "US Dollar",
    "GBP": "British pound",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "AUD": "Australian Dollar",
    "JPY": "Yen",
    "CHF": "Swiss Franc",
    "SGD": "Singapore Dollar",
    "INR": "Indian Rupee",
}
# NetSuite's usual internal ids in a new OneWorld account (USD=1, GBP=2, CAD=3, EUR=4 ...).
DEFAULT_CURRENCY_IDS = {code: str(n) for n, code in enumerate(CURRENCY_NAMES, start=1)}
ZERO_DECIMAL = {"JPY"}

DEFAULT_SUBSIDIARIES: list[dict[str, str]] = [
    {"id": "1", "name": "Acme US Inc.", "currency": "USD", "country": "US"},
    {"id": "2", "name": "Acme UK Ltd.", "currency": "GBP", "country": "GB"},
    {"id": "3", "name": "Acme GmbH", "currency": "EUR", "country": "DE"},
    {"id": "4", "name": "Acme Canada Ltd.", "currency": "CAD", "country": "CA"},
]

_ENTITY_COMMON = (
    FieldSpec("entityId", label="ID", max_length=83, unique=True, indexed=True),
    FieldSpec("externalId", label="External ID", max_length=255),
    FieldSpec("currency", "ref", label="Currency", ref="currency"),
    FieldSpec("email", "email", label="Email"),
    FieldSpec("phone", label="Phone"),
    FieldSpec("comments", label="Comments"),
    FieldSpec("isInactive", "bool", label="Inactive"),
)


def _ref_id(record: dict[str, Any], name: str) -> str | None:
    ref = record.get(name)
    return ref["id"] if isinstance(ref, dict) else None


def _customer_defaults(record: dict[str, Any], store: Lookup) -> None:
    record.setdefault("isPerson", False)
    sub = store.get("subsidiary", _ref_id(record, "subsidiary") or "")
    if record.get("currency") is None and sub is not None:
        record["currency"] = sub["currency"]


def _customer_names(ctx: RuleContext) -> list[ErrorDetail]:
    wanted = ("firstName", "lastName") if ctx.record.get("isPerson") else ("companyName",)
    labels = {"firstName": "First Name", "lastName": "Last Name", "companyName": "Company Name"}
    return [
        ErrorDetail(f"Please enter value(s) for: {labels[n]}", "USER_ERROR", path=n)
        for n in wanted
        if not ctx.record.get(n)
    ]


def _customer_parent(ctx: RuleContext) -> list[ErrorDetail]:
    parent_id = _ref_id(ctx.record, "parent")
    if parent_id is None:
        return []
    parent = ctx.store.get("customer", parent_id) or {}
    own_sub, parent_sub = _ref_id(ctx.record, "subsidiary"), _ref_id(parent, "subsidiary")
    if own_sub != parent_sub:
        return [
            ErrorDetail(
                f"Invalid parent: customer {parent_id} belongs to subsidiary "
                f"{parent_sub}; a sub-customer must belong to its parent's "
                f"subsidiary ({own_sub}).",
                "USER_ERROR",
                path="parent",
            )
        ]
    seen: set[str] = set()
    current: str | None = parent_id
    while current is not None and current not in seen:
        if current == ctx.rid:
            return [
                ErrorDetail(
                    "Invalid parent: a customer cannot be a sub-customer of "
                    "itself or of its own sub-customers.",
                    "USER_ERROR",
                    path="parent",
                )
            ]
        seen.add(current)
        current = _ref_id(ctx.store.get("customer", current) or {}, "parent")
    return []


def _job_defaults(record: dict[str, Any], store: Lookup) -> None:
    customer = store.get("customer", _ref_id(record, "parent") or "")
    if customer is None:
        return
    for name in ("subsidiary", "currency"):
        if record.get(name) is None and customer.get(name) is not None:
            record[name] = customer[name]


def _job_subsidiary(ctx: RuleContext) -> list[ErrorDetail]:
    customer = ctx.store.get("customer", _ref_id(ctx.record, "parent") or "") or {}
    own, theirs = _ref_id(ctx.record, "subsidiary"), _ref_id(customer, "subsidiary")
    if own == theirs:
        return []
    return [
        ErrorDetail(
            f"Invalid subsidiary: the project's customer belongs to subsidiary "
            f"{theirs}, not {own}.",
            "USER_ERROR",
            path="subsidiary",
        )
    ]


def _job_dates(ctx: RuleContext) -> list[ErrorDetail]:
    start, end = ctx.record.get("startDate"), ctx.record.get("projectedEndDate")
    if start and end and end < start:  # ISO dates compare as text
        return [
            ErrorDetail(
                "The projected end date cannot be before the start date.",
                "USER_ERROR",
                path="projectedEndDate",
            )
        ]
    return []


CURRENCY = register(
    RecordType(
        "currency",
        fields(
            FieldSpec("name"),
            FieldSpec("symbol"),
            FieldSpec("currencyPrecision", "number"),
            FieldSpec("isBaseCurrency", "bool"),
            FieldSpec("isInactive", "bool"),
        ),
        ref_name="name",
        read_only=True,
    )
)

SUBSIDIARY = register(
    RecordType(
        "subsidiary",
        fields(
            FieldSpec("name"),
            FieldSpec("currency", "ref", ref="currency"),
            FieldSpec("country"),
            FieldSpec("isInactive", "bool"),
        ),
        ref_name="name",
        read_only=True,
    )
)

CUSTOMER = register(
    RecordType(
        "customer",
        fields(
            FieldSpec("companyName", label="Company Name", max_length=83),
            FieldSpec("isPerson", "bool", label="Type"),
            FieldSpec("firstName", label="First Name"),
            FieldSpec("lastName", label="Last Name"),
            FieldSpec(
                "subsidiary", "ref", label="Primary Subsidiary", required=True, ref="subsidiary"
            ),
            FieldSpec("parent", "ref", label="Child Of", ref="customer"),
            *_ENTITY_COMMON,
        ),
        ref_name="companyName",
        id_sequence="entity",
        custom_prefix="custentity_",
        defaults=(_customer_defaults,),
        rules=(_customer_names, _customer_parent),
    )
)

JOB = register(
    RecordType(
        "job",
        fields(
            FieldSpec("companyName", label="Project Name", required=True, max_length=83),
            FieldSpec("parent", "ref", label="Customer", required=True, ref="customer"),
            FieldSpec("subsidiary", "ref", label="Subsidiary", required=True, ref="subsidiary"),
            FieldSpec("startDate", "date", label="Start Date"),
            FieldSpec("projectedEndDate", "date", label="Projected End Date"),
            FieldSpec("jobType", "ref", label="Project Type"),
            *_ENTITY_COMMON,
        ),
        ref_name="companyName",
        id_sequence="entity",
        custom_prefix="custentity_",
        defaults=(_job_defaults,),
        rules=(_job_subsidiary, _job_dates),
    )
)


def currency_records(currency_ids: dict[str, str]) -> list[dict[str, Any]]:
    """Seed records for the currency list (ISO code -> internal id)."""
    return [
        {
            "id": cid,
            "name": CURRENCY_NAMES.get(code, code),
            "symbol": code,
            "currencyPrecision": 0 if code in ZERO_DECIMAL else 2,
            "isBaseCurrency": cid == "1",
            "isInactive": False,
        }
        for code, cid in currency_ids.items()
    ]


def subsidiary_records(
    subsidiaries: list[dict[str, str]], currency_ids: dict[str, str]
) -> list[dict[str, Any]]:
    """Seed records for subsidiaries given with ISO currencies."""
    out = []
    for sub in subsidiaries:
        code = sub["currency"]
        if code not in currency_ids:
            raise ValueError(f"subsidiary {sub['id']}: currency {code} is not seeded")
        out.append(
            {
                "id": str(sub["id"]),
                "name": sub["name"],
                "currency": {"id": currency_ids[code]},
                "country": sub.get("country"),
                "isInactive": False,
            }
        )
    return out
