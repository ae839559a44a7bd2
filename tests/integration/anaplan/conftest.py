"""Fixtures: an Anaplan sandbox on a real socket, raw HTTP clients and the connector."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pshub.connectors.anaplan import AnaplanConnector
from pshub.sandboxes.anaplan import create_app
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.server import ThreadedServer

from .support import MODEL, PASSWORD, USER, WS

ConnectorFactory = Callable[..., AnaplanConnector]


@pytest.fixture
def state() -> Iterator[SandboxState]:
    store = SandboxState()
    yield store
    store.close()


@pytest.fixture
def sandbox(state: SandboxState) -> Iterator[ThreadedServer]:
    server = ThreadedServer(create_app(state, users={USER: PASSWORD}), name="anaplan-sandbox")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def admin(sandbox: ThreadedServer) -> Iterator[httpx.Client]:
    """Unauthenticated HTTP to the sandbox root (``/_sandbox`` admin routes, ``/token``)."""
    with httpx.Client(base_url=sandbox.url, timeout=10.0) as client:
        yield client


@pytest.fixture
def api(sandbox: ThreadedServer, admin: httpx.Client) -> Iterator[httpx.Client]:
    """Raw HTTP with a fresh ``AnaplanAuthToken`` (paths carry ``/2/0``)."""
    answer = admin.post("/token/authenticate", auth=(USER, PASSWORD))
    token = answer.json()["tokenInfo"]["tokenValue"]
    headers = {"Authorization": f"AnaplanAuthToken {token}"}
    with httpx.Client(base_url=sandbox.url, timeout=10.0, headers=headers) as client:
        yield client


@pytest.fixture
def make_connector(sandbox: ThreadedServer) -> Iterator[ConnectorFactory]:
    """``make_connector(**options)``: a connector to the sandbox, closed after the test."""
    made: list[AnaplanConnector] = []

    def make(**options: Any) -> AnaplanConnector:
        values: dict[str, Any] = {
            "username": USER,
            "password": PASSWORD,
            "workspace_id": WS,
            "model_id": MODEL,
            "poll_interval": 0.02,
            "poll_max_interval": 0.2,
        }
        values.update(options)
        connector = AnaplanConnector(sandbox.url, sandbox.url, **values)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def connector(make_connector: ConnectorFactory) -> AnaplanConnector:
    return make_connector()
