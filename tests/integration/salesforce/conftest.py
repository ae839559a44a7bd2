"""Salesforce sandboxes over real HTTPS, the connector pointed at them, a webhook receiver."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from pshub.connectors.salesforce import SalesforceConnector
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.salesforce import create_app
from pshub.sandboxes.server import ThreadedServer
from pshub.sandboxes.tls import TlsFiles, ensure_tls

from .support import CLIENT_ID, CLIENT_SECRET, Delivery, Receiver, Sandbox


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
