"""Fixtures: a hub whose CRM is the Salesforce sandbox (HTTPS) and whose FP&A is the Anaplan
sandbox (HTTP), with the hub's store holding what deal-to-project and time-to-bill record.

The store is seeded through the same repository functions those flows call (canonical
contract and project records, the PSA cross-reference, posted billing lines), so the
forecast reads the hub exactly as it stands after delivery.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

import pshub.flows.forecast  # noqa: F401  (registers the workflow before DBOS launches)
from pshub.bootstrap import Container
from pshub.connectors.kantata import KantataConnector
from pshub.connectors.salesforce import SalesforceConnector
from pshub.flows.forecast import AnaplanSettings
from pshub.sandboxes.anaplan import SandboxSettings
from pshub.sandboxes.anaplan import create_app as anaplan_app
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import create_app as kantata_app
from pshub.sandboxes.salesforce.app import create_app as salesforce_app
from pshub.sandboxes.server import ThreadedServer
from pshub.sandboxes.tls import ensure_tls
from pshub.store import repos
from pshub.store.tables import BillingLineRow

USER, PASSWORD = "fpa@northwind.example", "forecast sandbox password"
SF_ID, SF_SECRET = "forecast-client", "forecast-secret"
PSA_TOKEN = "forecast-kantata-token"
MODEL = "75A40874E6B64FA3AE0743278996850F"


@dataclass
class World:
    hub: Container
    anaplan: httpx.Client  # the Anaplan sandbox's admin API
    crm: SalesforceConnector
    data_dir: Path
    psa: KantataConnector

    def cells(self) -> dict[tuple[str, ...], str]:
        body = self.anaplan.get(f"/_sandbox/models/{MODEL}/cells").json()
        dims = ("Snapshot", "Legal Entity", "Service Line", "Month", "Category")
        return {tuple(c[d] for d in dims): c["Amount"] for c in body["cells"]}


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return ensure_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def hub_world(hub_factory: Any, tmp_path: Path, tls: Any) -> Iterator[World]:
    states = [SandboxState(), SandboxState(), SandboxState()]
    fpa = ThreadedServer(
        anaplan_app(states[0], users={USER: PASSWORD}, settings=SandboxSettings(import_seconds=0)),
        name="anaplan-sandbox",
    ).start()
    sf = ThreadedServer(
        salesforce_app(states[1], client_id=SF_ID, client_secret=SF_SECRET),
        certfile=tls.cert,
        keyfile=tls.key,
        name="salesforce-sandbox",
    ).start()
    psa_server = ThreadedServer(
        kantata_app(states[2], tokens={PSA_TOKEN}), name="kantata-sandbox"
    ).start()
    crm = SalesforceConnector(sf.url, SF_ID, SF_SECRET, ca_file=str(tls.ca))
    psa = KantataConnector(psa_server.url, PSA_TOKEN)
    admin = httpx.Client(base_url=fpa.url, timeout=10)
    try:
        hub = hub_factory(crm=crm, psa=psa)
        hub.extras["anaplan_settings"] = AnaplanSettings(
            auth_url=fpa.url,
            api_url=fpa.url,
            username=USER,
            password=PASSWORD,
            poll_interval_seconds=0.02,
        )
        seed_hub(hub)
        yield World(hub=hub, anaplan=admin, crm=crm, data_dir=tmp_path / "hub", psa=psa)
    finally:
        admin.close()
        crm.close()  # its keep-alive connection would hold up the server's graceful stop
        psa.close()
        psa_server.stop()
        sf.stop()
        fpa.stop()
        for state in states:
            state.close()


# --- the hub's records ------------------------------------------------------------------------


def money(amount: str, currency: str) -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def contract(cid: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": cid,
        "version": 1,
        "opportunity_id": f"opp-{cid}",
        "account_id": "acct-1",
        "legal_entity": "UK",
        "service_line": "ADVISORY",
        "billing_model": "time_and_materials",
        "value": money("100000.00", "GBP"),
        "rate_card": "STD-GBP",
        "tax_code": "UK-VAT-STD",
        "start_date": "2026-09-01",
        "end_date": "2027-02-28",
        "lines": [],
    }
    body.update(fields)
    return body


def project(
    cid: str, currency: str, milestones: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "id": f"prj-{cid}",
        "contract_id": cid,
        "name": cid,
        "template": "TPL-ADVISORY",
        "legal_entity": "UK",
        "currency": currency,
        "budget": money("0", currency),
        "tasks": [],
        "milestones": milestones or [],
    }


def save_deal(c: Container, body: dict[str, Any], prj: dict[str, Any], psa_id: str) -> None:
    with c.db.session() as s:
        repos.save_record(s, "contract", body["id"], body)
        repos.save_record(s, "project", prj["id"], prj)
        repos.link(
            s,
            entity_type="project",
            canonical_id=prj["id"],
            system="kantata",
            system_type="workspace",
            system_id=psa_id,
        )


def post(c: Container, psa_id: str, period: str, amount: str, *, reverse: bool = False) -> None:
    """A billing line as time-to-bill leaves it once the ERP accepted it."""
    key = f"time:{psa_id}-{period}-{amount}:v1:billable" + (":reverse" if reverse else "")
    with c.db.session() as s:
        s.execute(
            insert(BillingLineRow).values(
                key=key,
                batch_id="b1",
                source_key=f"time:{psa_id}-{period}-{amount}",
                version=1,
                action="reverse" if reverse else "post",
                project_id=psa_id,
                legal_entity="UK",
                period=period,
                amount=Decimal(amount),
                currency="GBP",
                status="posted",
                erp_id="1",
                error=None,
                approved_at=datetime(2026, 9, 1, tzinfo=UTC),
                posted_at=datetime(2026, 9, 1, tzinfo=UTC),
                posting_date=date.fromisoformat(f"{period}-15"),
                body={},
            )
        )


def seed_hub(c: Container) -> None:
    """C-TM (UK T&M, GBP 100,000) with posted time; C-FF (US fixed fee, USD 60,000)."""
    save_deal(c, contract("C-TM"), project("C-TM", "GBP"), "ws-tm")
    post(c, "ws-tm", "2026-09", "12000.00")
    post(c, "ws-tm", "2026-10", "15000.00")
    post(c, "ws-tm", "2026-10", "1000.00", reverse=True)  # an un-approved entry, reversed
    post(c, "ws-tm", "2026-11", "5000.00")  # the open month: not yet an actual
    ff = contract(
        "C-FF",
        legal_entity="US",
        service_line="DATA",
        billing_model="fixed_fee_milestone",
        value=money("60000.00", "USD"),
        rate_card=None,
        tax_code="US-EXEMPT-SVC",
    )
    milestones = [
        {
            "id": "M1",
            "name": "Design",
            "amount": money("20000.00", "USD"),
            "due_date": "2026-10-15",
        },
        {
            "id": "M2",
            "name": "Go-live",
            "amount": money("40000.00", "USD"),
            "due_date": "2027-01-31",
        },
    ]
    save_deal(c, ff, project("C-FF", "USD", milestones), "ws-ff")


def open_deal(crm: SalesforceConnector, name: str, **fields: Any) -> str:
    values: dict[str, Any] = {
        "Name": name,
        "StageName": "Negotiation/Review",
        "Amount": "50000",
        "CurrencyIsoCode": "GBP",
        "CloseDate": "2026-11-20",
        "Legal_Entity__c": "UK",
        "Service_Line__c": "ADVISORY",
        "Start_Date__c": "2026-12-01",
        "End_Date__c": "2027-05-31",
    }
    values.update(fields)
    return crm.create_opportunity(values)
