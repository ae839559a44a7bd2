"""A NetSuite sandbox on a real socket per test, plus connectors and raw signed requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from netsuite_helpers import ACCOUNT, Sandbox, StartNetsuite

from pshub.connectors.netsuite import NetSuiteConnector


@pytest.fixture
def start_netsuite() -> Iterator[StartNetsuite]:
    """Factory: ``start_netsuite(account_id, **create_app options)`` -> Sandbox."""
    started: list[Sandbox] = []

    def start(account_id: str = ACCOUNT, **options: Any) -> Sandbox:
        sandbox = Sandbox(account_id, **options)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.close()


@pytest.fixture
def netsuite(start_netsuite: StartNetsuite) -> Sandbox:
    return start_netsuite()


@pytest.fixture
def erp(netsuite: Sandbox) -> NetSuiteConnector:
    connector: NetSuiteConnector = netsuite.connector()
    return connector
