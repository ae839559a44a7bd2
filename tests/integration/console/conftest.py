"""Console fixtures: a hub on fake ports behind a real HTTP server, with users of each role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from pshub.api.app import create_app
from pshub.bootstrap import Container
from pshub.console import accounts
from pshub.sandboxes.server import ThreadedServer
from tests.builders import opportunity
from tests.fakes import FakeCrm, FakeErp, FakePsa

PASSWORDS = {"olivia": "operator-pw", "victor": "viewer-pw", "ada": "admin-pw"}
ROLES = {"olivia": "operator", "victor": "viewer", "ada": "admin"}


@dataclass
class Console:
    c: Container
    url: str
    crm: FakeCrm
    psa: FakePsa
    erp: FakeErp

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def api_key(self, scopes: list[str], **kw: int) -> str:
        name = f"client-{len(scopes)}-{'-'.join(scopes)}-{kw.get('burst', 60)}"
        return accounts.create_api_client(self.c, name, scopes, actor="test", **kw)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: httpx.Client, user: str, password: str | None = None) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={
            "username": user,
            "password": password or PASSWORDS[user],
            "csrf_token": csrf_of(page.text),
            "next": "/console/",
        },
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/console/").text)


@pytest.fixture
def console(hub_factory) -> Iterator[Console]:
    crm, psa, erp = FakeCrm(), FakePsa(), FakeErp()
    crm.add(opportunity("006DE", entity="DE", amount="55000", currency="EUR", lines=("55000",)))
    crm.add(opportunity("006OK"))
    c = hub_factory(crm=crm, psa=psa, erp=erp)
    app = create_app(c)
    for user, role in ROLES.items():
        accounts.create_user(c, user, PASSWORDS[user], role, actor="test")
    with ThreadedServer(app, name="console-test") as server:
        yield Console(c, server.url, crm, psa, erp)
