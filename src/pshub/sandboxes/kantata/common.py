"""Helpers the resource modules share: request bodies, wrapped records, money, rendering."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request

from pshub.domain.money import minor_unit
from pshub.sandboxes.kantata.errors import FieldErrors, missing_param, system_error

Endpoint = Callable[..., Any]


def collection_route(router: APIRouter, path: str, endpoint: Endpoint, method: str) -> None:
    """Register ``path`` both bare (as the OpenAPI has it) and with ``.json`` (as the docs)."""
    for variant in (path, f"{path}.json"):
        router.add_api_route(variant, endpoint, methods=[method], include_in_schema=False)


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise system_error(400, "request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise system_error(400, "request body must be a JSON object")
    return body


def unwrap(body: dict[str, Any], singular: str, plural: str, limit: int) -> list[dict[str, Any]]:
    """``{"workspace": {...}}`` or the bulk form ``{"workspaces": [{...}, ...]}``."""
    if isinstance(body.get(singular), dict):
        return [body[singular]]
    many = body.get(plural)
    if isinstance(many, list) and many and all(isinstance(x, dict) for x in many):
        if len(many) > limit:
            raise system_error(422, f"bulk create accepts at most {limit} {plural}")
        return many
    raise missing_param(singular)


def base_unit(currency: str) -> int:
    """``currency_base_unit``: subunits per unit, e.g. 100 for USD, 1 for JPY."""
    return int(10 ** minor_unit(currency))


def units_to_cents(errors: FieldErrors, field: str, value: Any, currency: str) -> int | None:
    """Parse an amount in base units (int, or a decimal string as Rails coerces it) to cents."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.add(field, f"{field} must be a number")
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add(field, f"{field} must be a number")
        return None
    cents = amount * base_unit(currency)
    if not amount.is_finite() or cents != cents.to_integral_value():
        errors.add(field, f"{field} has more decimal places than {currency} allows")
        return None
    if cents < 0:
        errors.add(field, f"{field} must be greater than or equal to 0")
        return None
    return int(cents)


def cents_to_units(cents: int, currency: str) -> str:
    """The readable amount (``price``, ``budget_used``): base units with the minor digits."""
    places = minor_unit(currency)
    return str((Decimal(cents) / base_unit(currency)).quantize(Decimal(1).scaleb(-places)))


def clean(record: dict[str, Any]) -> dict[str, Any]:
    """Drop nulls: the vendor schemas type every field without ``null``."""
    return {k: v for k, v in record.items() if v is not None}


def check_currency(errors: FieldErrors, value: Any) -> None:
    if value is None:
        return
    if not (isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper()):
        errors.add("currency", "currency must be an ISO 4217 currency code")
