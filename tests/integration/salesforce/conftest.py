"""Salesforce sandboxes over real HTTPS, the connector pointed at them, a webhook receiver."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from fastapi import FastAPI, Request, Response

from pshub.connectors.salesforce import SalesforceConnector
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.salesforce import create_app
from pshub.sandboxes.server import ThreadedServer
from pshub.sandboxes.tls import TlsFiles, ensure_tls

CLIENT_ID = "pshub-test-client"
CLIENT_SECRET = "pshub-test-secret"
NOTIFY_SECRET = "whsec-salesforce-test"


@dataclass
class Sandbox:
    """A running sandbox: its URL, state, and an HTTPS client for raw and admin calls."""

    url: str
    state: SandboxState
    server: ThreadedServer
    ca: Path
    http: httpx.Client

    def connector(self, **kwargs: Any) -> SalesforceConnector:
        return SalesforceConnector(self.url, CLIENT_ID, CLIENT_SECRET, ca_file=str(self.ca),
                                   **kwargs)

    def token(self) -> str:
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET}
        return str(self.http.post("/services/oauth2/token", data=form).json()["access_token"])

    def raw_session(self) -> requests.Session:
        """A plain requests session trusting the sandbox CA (and not the environment's)."""
        session = requests.Session()
        session.verify = str(self.ca)
        session.trust_env = False
        return session


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """A tiny hub stand-in that records every webhook it is sent."""

    url: str = ""
    status: int = 200
    deliveries: list[Delivery] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Delivery]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.deliveries) >= count, timeout=timeout)
            assert len(self.deliveries) >= count, f"only {len(self.deliveries)} deliveries"
            return list(self.deliveries)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_tls(tmp_path_factory.mktemp("salesforce-tls"))


@pytest.fixture
def start_sandbox(tls: TlsFiles) -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with ``create_app`` keyword arguments; all are stopped afterwards."""
    started: list[Sandbox] = []

    def start(state: SandboxState | None = None, **kwargs: Any) -> Sandbox:
        state = state or SandboxState()
        app = create_app(state, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **kwargs)
        server = ThreadedServer(app, certfile=tls.cert, keyfile=tls.key, name="salesforce")
        server.start()
        context = ssl.create_default_context(cafile=str(tls.ca))
        http = httpx.Client(base_url=server.url, verify=context, timeout=10.0)
        sandbox = Sandbox(server.url, state, server, tls.ca, http)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.http.close()
        sandbox.server.stop()
        sandbox.state.close()


@pytest.fixture
def sandbox(start_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return start_sandbox()


@pytest.fixture
def connector(sandbox: Sandbox) -> Iterator[SalesforceConnector]:
    with sandbox.connector() as conn:
        yield conn


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    app = FastAPI()

    @app.post("/webhooks/salesforce")
    async def hook(request: Request) -> Response:
        body = await request.body()
        with rec.changed:
            rec.deliveries.append(Delivery(body, dict(request.headers)))
            rec.changed.notify_all()
        return Response(status_code=rec.status)

    with ThreadedServer(app, name="receiver") as server:
        rec.url = f"{server.url}/webhooks/salesforce"
        yield rec
