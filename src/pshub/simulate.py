"""A realistic services firm for the demo, tests and benchmarks, reproducible from a seed.

Northwind Consulting has three legal entities (US/USD, UK/GBP, SG/SGD), customers with parent
hierarchies, consultants with roles and cost rates, and ~30 opportunities across service lines
and billing models. A few deals carry deliberately bad data, the kind that reaches a real hub:
an unmapped legal entity, a customer country without a tax profile, an unknown service line.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pshub.domain.money import Money, allocate


@dataclass(frozen=True)
class SimAccount:
    key: str
    name: str
    country: str
    parent: str | None = None


@dataclass(frozen=True)
class Consultant:
    name: str
    role: str
    entity: str
    cost_rate: str  # per hour, entity currency


@dataclass(frozen=True)
class SimOpportunity:
    key: str
    name: str
    account: str
    entity: str  # the CRM's legal-entity code (may be unmapped on purpose)
    currency: str
    service_line: str
    billing_model: str  # the CRM picklist label
    amount: str
    close_date: date
    start_date: date
    end_date: date
    rate_card: str | None
    lines: list[tuple[str, str, date]]  # name, amount, service date
    closes_won: bool
    flaw: str | None = None  # what is deliberately wrong, for the reader of the demo


@dataclass
class Firm:
    seed: int
    accounts: list[SimAccount]
    consultants: list[Consultant]
    opportunities: list[SimOpportunity] = field(default_factory=list)

    @property
    def won(self) -> list[SimOpportunity]:
        return [o for o in self.opportunities if o.closes_won]


ACCOUNTS = [
    SimAccount("globex", "Globex Group plc", "GB"),
    SimAccount("globex-uk", "Globex UK Ltd", "GB", "globex"),
    SimAccount("globex-de", "Globex Deutschland GmbH", "DE", "globex"),
    SimAccount("initech", "Initech Holdings Inc.", "US"),
    SimAccount("initech-us", "Initech US Inc.", "US", "initech"),
    SimAccount("initech-ca", "Initech Canada Ltd", "CA", "initech"),
    SimAccount("umbrella", "Umbrella Asia Pte Ltd", "SG"),
    SimAccount("umbrella-my", "Umbrella Malaysia Sdn Bhd", "MY", "umbrella"),
    SimAccount("hooli", "Hooli Inc.", "US"),
    SimAccount("stark", "Stark Industries Ltd", "GB"),
    SimAccount("wayne", "Wayne Enterprises Inc.", "US"),
    SimAccount("tyrell", "Tyrell Asia Pte Ltd", "SG"),
    SimAccount("acme-fr", "Acme France SAS", "FR", "stark"),
    SimAccount("soylent", "Soylent Corp.", "US", "hooli"),
]

ROLES = ["Partner", "Manager", "Senior Consultant", "Consultant"]
COST = {
    "USD": ["210", "130", "95", "70"],
    "GBP": ["175", "105", "80", "58"],
    "SGD": ["260", "170", "120", "90"],
}
FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Isla",
    "Jonah",
    "Kemi",
    "Liam",
    "Maya",
    "Noah",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
]
LAST = ["Shah", "Okafor", "Lindqvist", "Tanaka", "Moreau", "Byrne", "Costa", "Nguyen"]

ENTITY_OF_COUNTRY = {
    "GB": "UK",
    "DE": "UK",
    "FR": "UK",
    "US": "US",
    "CA": "US",
    "SG": "SG",
    "MY": "SG",
}
CURRENCY = {"US": "USD", "UK": "GBP", "SG": "SGD", "DE": "EUR"}
MODELS = {
    "ERP-IMPL": ["Fixed Fee Milestone", "Time & Materials", "Percent Complete"],
    "ADVISORY": ["Fixed Fee Milestone", "Time & Materials"],
    "MANAGED": ["Retainer", "Time & Materials"],
    "DATA": ["Time & Materials", "Fixed Fee Milestone", "Percent Complete"],
}
NAMES = {
    "ERP-IMPL": ["S/4 rollout", "NetSuite OneWorld", "Finance transformation"],
    "ADVISORY": ["Operating model review", "M&A integration", "Pricing strategy"],
    "MANAGED": ["Application support", "Managed finance ops"],
    "DATA": ["Revenue analytics", "Data platform build", "Forecasting model"],
}


def build_firm(seed: int = 7, opportunities: int = 30, today: date = date(2026, 11, 2)) -> Firm:
    """The same firm for the same seed: accounts, consultants and opportunities."""
    rng = random.Random(seed)
    consultants = [
        Consultant(
            f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            ROLES[i % 4],
            entity,
            COST[CURRENCY[entity]][i % 4],
        )
        for entity in ("US", "UK", "SG")
        for i in range(6)
    ]
    firm = Firm(seed=seed, accounts=list(ACCOUNTS), consultants=consultants)
    customers = [a for a in ACCOUNTS if a.key not in {"globex", "initech", "umbrella"}]
    for n in range(opportunities):
        firm.opportunities.append(_opportunity(rng, n, rng.choice(customers), today))
    _inject_flaws(firm)
    return firm


def _opportunity(rng: random.Random, n: int, acct: SimAccount, today: date) -> SimOpportunity:
    entity = ENTITY_OF_COUNTRY[acct.country]
    currency = CURRENCY[entity]
    service_line = rng.choice(list(MODELS))
    model = rng.choice(MODELS[service_line])
    amount = Decimal(rng.randrange(40, 900)) * 1000
    close = today - timedelta(days=rng.randrange(0, 25))
    start = close + timedelta(days=rng.randrange(7, 30))
    end = start + timedelta(days=30 * rng.randrange(3, 12))
    lines: list[tuple[str, str, date]] = []
    if model == "Fixed Fee Milestone":
        count = rng.randrange(2, 5)
        parts = allocate(Money.of(amount, currency), [rng.randrange(1, 5) for _ in range(count)])
        span = (end - start).days
        lines = [
            (f"Milestone {i + 1}", str(p.amount), start + timedelta(days=span * (i + 1) // count))
            for i, p in enumerate(parts)
        ]
    else:
        lines = [(f"{service_line} services", str(amount), start)]
    name = f"{acct.name.split()[0]} {rng.choice(NAMES[service_line])}"
    return SimOpportunity(
        key=f"opp-{n:03d}",
        name=name,
        account=acct.key,
        entity=entity,
        currency=currency,
        service_line=service_line,
        billing_model=model,
        amount=str(amount),
        close_date=close,
        start_date=start,
        end_date=end,
        rate_card=f"STD-{currency}" if model == "Time & Materials" else None,
        lines=lines,
        closes_won=n % 10 != 9,
    )


def _inject_flaws(firm: Firm) -> None:
    """Three won deals carry the data problems real hubs meet."""
    opps = firm.opportunities
    won = [i for i, o in enumerate(opps) if o.closes_won]
    i, j, k = won[2], won[7], won[12]
    o = opps[i]
    opps[i] = _replace(
        o,
        entity="DE",
        currency="EUR",
        rate_card=None,
        service_line="ERP-IMPL",
        billing_model="Fixed Fee Milestone",
        lines=[("Milestone 1", o.amount, o.start_date)],
        flaw="legal entity DE is not mapped to an ERP subsidiary",
    )
    o = opps[j]
    opps[j] = _replace(
        o,
        account="acme-fr",
        entity="US",
        currency="USD",
        rate_card="STD-USD" if o.billing_model == "Time & Materials" else None,
        flaw="US entity has no tax profile for a customer in France",
    )
    o = opps[k]
    opps[k] = _replace(o, service_line="CYBER", flaw="service line CYBER is not mapped")


def _replace(o: SimOpportunity, **changes: Any) -> SimOpportunity:
    from dataclasses import replace

    return replace(o, **changes)


class CrmSeeder(Protocol):
    def create_account(self, fields: dict[str, Any]) -> str: ...
    def create_opportunity(self, fields: dict[str, Any], lines: list[dict[str, Any]]) -> str: ...
    def update_opportunity(self, source_id: str, fields: dict[str, Any]) -> None: ...


def seed_crm(firm: Firm, crm: CrmSeeder) -> dict[str, str]:
    """Create the firm's accounts and (still open) opportunities in the CRM; key -> CRM id."""
    ids: dict[str, str] = {}
    for acct in firm.accounts:  # parents come before children in ACCOUNTS
        fields: dict[str, Any] = {"Name": acct.name, "BillingCountry": acct.country}
        if acct.parent:
            fields["ParentId"] = ids[acct.parent]
        ids[acct.key] = crm.create_account(fields)
    for opp in firm.opportunities:
        ids[opp.key] = crm.create_opportunity(
            opportunity_fields(opp, ids),
            [
                {
                    "Description": name,
                    "Quantity": 1,
                    "UnitPrice": amount,
                    "ServiceDate": day.isoformat(),
                }
                for name, amount, day in opp.lines
            ],
        )
    return ids


def opportunity_fields(opp: SimOpportunity, ids: dict[str, str]) -> dict[str, Any]:
    return {
        "Name": opp.name,
        "AccountId": ids[opp.account],
        "StageName": "Negotiation/Review",
        "Probability": 80,
        "Amount": opp.amount,
        "CurrencyIsoCode": opp.currency,
        "CloseDate": opp.close_date.isoformat(),
        "Legal_Entity__c": opp.entity,
        "Service_Line__c": opp.service_line,
        "Billing_Model__c": opp.billing_model,
        "Rate_Card__c": opp.rate_card,
        "Start_Date__c": opp.start_date.isoformat(),
        "End_Date__c": opp.end_date.isoformat(),
    }


def close_deals(firm: Firm, crm: CrmSeeder, ids: dict[str, str]) -> list[str]:
    """Move the firm's winning deals to Closed Won (the CRM then notifies the hub)."""
    closed = []
    for opp in firm.won:
        crm.update_opportunity(ids[opp.key], {"StageName": "Closed Won", "Probability": 100})
        closed.append(ids[opp.key])
    return closed
