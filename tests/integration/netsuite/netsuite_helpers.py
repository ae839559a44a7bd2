"""Builders for the NetSuite integration tests: sandbox handle, canonical records, TBA headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from pshub.connectors.netsuite import NetSuiteConnector
from pshub.connectors.netsuite.schemas import TimeBillLine
from pshub.domain.ids import canonical_id
from pshub.domain.money import money
from pshub.domain.parties import Account, LegalEntity
from pshub.domain.projects import Project
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.netsuite import create_app
from pshub.sandboxes.server import ThreadedServer

ACCOUNT = "TSTDRV2345678"
CREDS: dict[str, Any] = {
    "consumer_key": "ck-5f2a9c",
    "consumer_secret": "cs-81bd0e",
    "token_id": "tk-3c7e11",
    "token_secret": "ts-a49f06",
}
RECORDS = "/services/rest/record/v1"

US = LegalEntity(
    code="ACME-US",
    name="Acme US Inc.",
    country="US",
    currency="USD",
    erp_subsidiary_id="1",
    billing_currencies=("EUR",),
)
UK = LegalEntity(
    code="ACME-UK", name="Acme UK Ltd.", country="GB", currency="GBP", erp_subsidiary_id="2"
)


def account(name: str, parent: str | None = None) -> Account:
    return Account(
        id=canonical_id("account", "salesforce", name),
        source_id=name,
        name=name,
        billing_country="US",
        parent_source_id=parent,
    )


def project(name: str, currency: str = "USD") -> Project:
    pid = canonical_id("project", "salesforce", name)
    return Project(
        id=pid,
        contract_id=canonical_id("contract", "salesforce", name),
        name=name,
        template="consulting",
        legal_entity="ACME-US",
        currency=currency,
        budget=money("120000.00", currency),
        start_date=date(2025, 1, 6),
        end_date=date(2025, 6, 30),
    )


def oauth_header(method: str, url: str, *, account_id: str = ACCOUNT, **override: Any) -> str:
    """An Authorization header signed by oauthlib, with any credential or nonce overridden."""
    creds = {**CREDS, **{k: v for k, v in override.items() if k in CREDS}}
    client = Client(
        creds["consumer_key"],
        client_secret=creds["consumer_secret"],
        resource_owner_key=creds["token_id"],
        resource_owner_secret=creds["token_secret"],
        signature_method=SIGNATURE_HMAC_SHA256,
        realm=account_id,
        nonce=override.get("nonce"),
        timestamp=override.get("timestamp"),
    )
    _uri, headers, _body = client.sign(url, http_method=method)
    return str(headers["Authorization"])


class Sandbox:
    """One running NetSuite sandbox and the clients a test opened on it."""

    def __init__(self, account_id: str, **options: Any) -> None:
        self.account_id = account_id
        self.state = SandboxState()
        self.app: FastAPI = create_app(self.state, account_id=account_id, **CREDS, **options)
        self.server = ThreadedServer(self.app, name=f"netsuite-{account_id}").start()
        self.http = httpx.Client(timeout=10.0)
        self._connectors: list[NetSuiteConnector] = []

    @property
    def url(self) -> str:
        return self.server.url

    def connector(self, **options: Any) -> NetSuiteConnector:
        creds = {**CREDS, **{k: v for k, v in options.items() if k in CREDS}}
        kwargs = {k: v for k, v in options.items() if k not in CREDS}
        conn = NetSuiteConnector(self.url, self.account_id, **creds, **kwargs)
        self._connectors.append(conn)
        return conn

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        header: str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **override: Any,
    ) -> httpx.Response:
        """A raw request to the record service (or to an absolute URL of the sandbox),
        signed unless ``header`` is given."""
        target = path if path.startswith("http") else self.url + RECORDS + path
        url = httpx.URL(target, params=params)
        auth = (
            header
            if header is not None
            else oauth_header(method, str(url), account_id=self.account_id, **override)
        )
        sent = {"Authorization": auth, **(headers or {})}
        return self.http.request(method, url, json=json, headers=sent)

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        response = self.http.request(method, self.url + "/_sandbox" + path, json=json)
        response.raise_for_status()
        return response.json()

    def set_faults(self, **settings: Any) -> None:
        current = self.admin("GET", "/faults")
        self.admin("PUT", "/faults", {**current, **settings})

    def close(self) -> None:
        for conn in self._connectors:
            conn.close()
        self.http.close()
        self.server.stop()
        self.app.state.async_runner.close()
        self.state.close()


StartNetsuite = Callable[..., Sandbox]


class Books:
    """A customer, a project under it and an employee, created over HTTP in a sandbox."""

    def __init__(self, sandbox: Sandbox, name: str = "Initech") -> None:
        self.customer_id = _created(
            sandbox.send("POST", "/customer", json={"companyName": name, "subsidiary": {"id": "1"}})
        )
        self.job_id = _created(
            sandbox.send(
                "POST",
                "/job",
                json={"companyName": f"{name} rollout", "parent": {"id": self.customer_id}},
            )
        )
        self.employee_id = _created(
            sandbox.send(
                "POST",
                "/employee",
                json={"firstName": "Ada", "lastName": "Byron", "subsidiary": {"id": "1"}},
            )
        )


def _created(response: httpx.Response) -> str:
    assert response.status_code == 204, response.text
    return str(response.headers["Location"].rsplit("/", 1)[-1])


def time_bill(
    books: Books, n: int, *, hours: str = "7.5", day: date = date(2025, 3, 3), **changes: Any
) -> TimeBillLine:
    line = TimeBillLine(
        external_id=canonical_id("time_entry", "kantata", str(n)),
        customer_job_id=books.job_id,
        employee_ref=books.employee_id,
        date=day,
        hours=Decimal(hours),
        rate=money("150.00", "USD"),
        amount=money(str(Decimal(hours) * 150), "USD"),
        memo=f"Time entry {n}",
    )
    return line.model_copy(update=changes)
