"""Shared test helpers: credentials, a running-sandbox handle and a webhook receiver."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import requests

from pshub.connectors.salesforce import SalesforceConnector
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.server import ThreadedServer

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
        return SalesforceConnector(
            self.url, CLIENT_ID, CLIENT_SECRET, ca_file=str(self.ca), **kwargs
        )

    def token(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
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
