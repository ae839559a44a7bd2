"""Fixtures: a Kantata sandbox on a real socket, an authorised HTTP client and the connector."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from pshub.connectors.kantata import KantataConnector
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money
from pshub.domain.projects import Milestone, Project, Task
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import create_app
from pshub.sandboxes.server import ThreadedServer

TOKEN = "kantata-sandbox-token"


@pytest.fixture
def state() -> Iterator[SandboxState]:
    store = SandboxState()
    yield store
    store.close()


@pytest.fixture
def sandbox(state: SandboxState) -> Iterator[ThreadedServer]:
    server = ThreadedServer(create_app(state, tokens={TOKEN}), name="kantata-sandbox")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(sandbox: ThreadedServer) -> Iterator[httpx.Client]:
    """Raw HTTP to the sandbox, authorised, rooted at the server (paths carry /api/v1)."""
    with httpx.Client(
        base_url=sandbox.url, timeout=10.0, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as client:
        yield client


@pytest.fixture
def connector(sandbox: ThreadedServer) -> Iterator[KantataConnector]:
    with KantataConnector(sandbox.url, TOKEN) as psa:
        yield psa


@pytest.fixture
def project() -> Project:
    """A fixed-fee implementation project with two tasks and two billing milestones."""
    pid = canonical_id("project", "crm", "006A")
    return Project(
        id=pid,
        contract_id=canonical_id("contract", "crm", "006A"),
        name="Acme - ERP Implementation",
        template="IMPL",
        legal_entity="US01",
        currency="USD",
        budget=Money.of("120000.00", "USD"),
        start_date=date(2025, 2, 3),
        end_date=date(2025, 6, 30),
        tasks=(
            Task(id=canonical_id("task", pid, "design"), name="Design"),
            Task(id=canonical_id("task", pid, "build"), name="Build"),
        ),
        milestones=(
            Milestone(
                id=canonical_id("milestone", pid, "m1"),
                name="Kick-off",
                amount=Money.of("30000.00", "USD"),
                due_date=date(2025, 2, 28),
            ),
            Milestone(
                id=canonical_id("milestone", pid, "m2"),
                name="Go-live",
                amount=Money.of("90000.00", "USD"),
                due_date=date(2025, 6, 30),
            ),
        ),
    )


@pytest.fixture
def workspace_id(api: httpx.Client) -> str:
    """A budgeted USD workspace that requires time approvals."""
    body = api.post(
        "/api/v1/workspaces.json",
        json={"workspace": {"title": "Delivery", "price": 50000, "require_time_approvals": True}},
    ).json()
    return str(body["results"][0]["id"])


@pytest.fixture
def milestone_story_id(api: httpx.Client, workspace_id: str) -> str:
    body = api.post(
        "/api/v1/stories.json",
        json={
            "story": {
                "workspace_id": int(workspace_id),
                "title": "Go-live",
                "story_type": "milestone",
            }
        },
    ).json()
    return str(body["results"][0]["id"])
