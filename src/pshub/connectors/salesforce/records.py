"""Salesforce records as the REST API returns them (vendor models, extra fields ignored).

Numbers arrive as Decimal (the client parses JSON with ``parse_float=Decimal``); a float that
slips through is converted from its shortest repr, never through binary arithmetic.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def exact_decimal(value: Any) -> Any:
    """Decimal from JSON: floats via ``repr`` (their shortest round-trip form), others as-is."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(exact_decimal)]

_VENDOR = ConfigDict(extra="ignore", frozen=True)


class SfAccount(BaseModel):
    model_config = _VENDOR

    Id: str
    Name: str
    ParentId: str | None = None
    BillingCountry: str | None = None
    PSHub_Id__c: str | None = None


class SfOpportunity(BaseModel):
    model_config = _VENDOR

    Id: str
    Name: str
    AccountId: str | None = None
    StageName: str
    Probability: ExactDecimal | None = None
    Amount: ExactDecimal | None = None
    CurrencyIsoCode: str | None = None
    CloseDate: date
    Legal_Entity__c: str | None = None
    Service_Line__c: str | None = None
    Billing_Model__c: str | None = None
    Rate_Card__c: str | None = None
    Start_Date__c: date | None = None
    End_Date__c: date | None = None


class SfOpportunityLineItem(BaseModel):
    model_config = _VENDOR

    Id: str
    Name: str | None = None
    Description: str | None = None
    Quantity: ExactDecimal = Decimal(1)
    UnitPrice: ExactDecimal | None = None
    TotalPrice: ExactDecimal | None = None
    ServiceDate: date | None = None


LINE_FIELDS = ("Id", "Name", "Description", "Quantity", "UnitPrice", "TotalPrice", "ServiceDate")
