"""Run the three vendor sandboxes and the hub on real sockets (demo, `pshub serve`, e2e tests).

Salesforce serves HTTPS with a locally generated CA (its client verifies certificates);
Kantata and NetSuite serve HTTP on loopback. Sandbox state persists under
``<data_dir>/sandboxes/`` so later commands see what the demo produced.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pshub import bootstrap
from pshub.observability import TraceMiddleware
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.server import ThreadedServer
from pshub.sandboxes.tls import ensure_tls
from pshub.settings import Settings

SUBSIDIARIES = [
    {"id": "1", "name": "Northwind Consulting Inc.", "currency": "USD", "country": "US"},
    {"id": "2", "name": "Northwind Consulting Ltd.", "currency": "GBP", "country": "GB"},
    {"id": "3", "name": "Northwind Consulting Pte. Ltd.", "currency": "SGD", "country": "SG"},
]


@dataclass
class Sandboxes:
    salesforce: ThreadedServer
    kantata: ThreadedServer
    netsuite: ThreadedServer
    anaplan: ThreadedServer | None = None  # FP&A; optional for callers that start only three
    states: list[SandboxState] = field(default_factory=list)
    ca_file: Path | None = None

    @property
    def urls(self) -> dict[str, str]:
        urls = {
            "salesforce": self.salesforce.url,
            "kantata": self.kantata.url,
            "netsuite": self.netsuite.url,
        }
        if self.anaplan is not None:
            urls["anaplan"] = self.anaplan.url
        return urls

    def admin(self, vendor: str) -> httpx.Client:
        """An httpx client for a sandbox's /_sandbox admin API."""
        verify: ssl.SSLContext | bool = True
        if self.ca_file:
            verify = ssl.create_default_context(cafile=str(self.ca_file))
        return httpx.Client(base_url=self.urls[vendor], timeout=10, verify=verify)

    def stop(self) -> None:
        for server in (self.salesforce, self.kantata, self.netsuite, self.anaplan):
            if server is not None:
                server.stop()
        for state in self.states:
            state.close()


def start_sandboxes(
    settings: Settings,
    *,
    notify_url: str | None,
    seed: int = 0,
    ports: dict[str, int] | None = None,
    latency_ms: float = 0,
) -> Sandboxes:
    """Start the Salesforce, Kantata and NetSuite sandboxes for ``settings``' credentials."""
    from pshub.flows.forecast import AnaplanSettings
    from pshub.sandboxes.anaplan.app import create_app as anaplan_app
    from pshub.sandboxes.kantata.app import create_app as kantata_app
    from pshub.sandboxes.netsuite.app import create_app as netsuite_app
    from pshub.sandboxes.salesforce.app import create_app as salesforce_app

    fpa = AnaplanSettings()

    ports = ports or {}
    root = settings.data_dir / "sandboxes"
    root.mkdir(parents=True, exist_ok=True)
    tls = ensure_tls(settings.data_dir / "tls")
    states = [
        SandboxState(root / f"{name}.sqlite") for name in ("sf", "kantata", "netsuite", "anaplan")
    ]
    sf = salesforce_app(
        states[0],
        client_id=settings.salesforce_client_id,
        client_secret=settings.salesforce_client_secret,
        notify_url=notify_url,
        notify_secret=settings.webhook_secret,
        seed=seed,
    )
    kt = kantata_app(states[1], tokens=frozenset({settings.kantata_token}), seed=seed)
    ns = netsuite_app(
        states[2],
        account_id=settings.netsuite_account_id,
        consumer_key=settings.netsuite_consumer_key,
        consumer_secret=settings.netsuite_consumer_secret,
        token_id=settings.netsuite_token_id,
        token_secret=settings.netsuite_token_secret,
        concurrency_limit=settings.netsuite_concurrency,
        seed=seed,
        subsidiaries=SUBSIDIARIES,
    )
    # Sandboxes continue the hub's traces (W3C traceparent), as the vendors' own APMs would.
    sf_app, kt_app, ns_app = (
        TraceMiddleware(sf, "salesforce"),
        TraceMiddleware(kt, "kantata"),
        TraceMiddleware(ns, "netsuite"),
    )
    servers = Sandboxes(
        salesforce=ThreadedServer(
            sf_app,
            port=ports.get("salesforce"),
            certfile=tls.cert,
            keyfile=tls.key,
            name="salesforce-sandbox",
        ),
        kantata=ThreadedServer(kt_app, port=ports.get("kantata"), name="kantata-sandbox"),
        netsuite=ThreadedServer(ns_app, port=ports.get("netsuite"), name="netsuite-sandbox"),
        anaplan=ThreadedServer(
            TraceMiddleware(
                anaplan_app(states[3], users={fpa.username: fpa.password}, seed=seed), "anaplan"
            ),
            port=ports.get("anaplan"),
            name="anaplan-sandbox",
        ),
        states=states,
        ca_file=tls.ca,
    )
    for server in (servers.salesforce, servers.kantata, servers.netsuite, servers.anaplan):
        if server is not None:
            server.start()
    if latency_ms:
        for vendor in servers.urls:
            with servers.admin(vendor) as admin:
                faults = admin.get("/_sandbox/faults").json()
                admin.put("/_sandbox/faults", json={**faults, "latency_ms": latency_ms})
    return servers


def hub_settings(base: Settings, sandboxes: Sandboxes) -> Settings:
    """``base`` pointed at the running sandboxes."""
    return base.model_copy(
        update={
            "salesforce_url": sandboxes.salesforce.url,
            "salesforce_ca_file": sandboxes.ca_file,
            "kantata_url": sandboxes.kantata.url,
            "netsuite_url": sandboxes.netsuite.url,
        }
    )


@dataclass
class Stack:
    """Sandboxes + hub (DBOS worker and API) in this process."""

    settings: Settings
    sandboxes: Sandboxes
    container: bootstrap.Container
    api: ThreadedServer

    @property
    def urls(self) -> dict[str, str]:
        return {"hub": self.api.url, **self.sandboxes.urls}

    def credentials(self) -> dict[str, Any]:
        s = self.settings
        return {
            "salesforce": {
                "client_id": s.salesforce_client_id,
                "client_secret": s.salesforce_client_secret,
                "ca_file": str(self.sandboxes.ca_file),
            },
            "kantata": {"token": s.kantata_token},
            "netsuite": {
                "account_id": s.netsuite_account_id,
                "consumer_key": s.netsuite_consumer_key,
                "consumer_secret": s.netsuite_consumer_secret,
                "token_id": s.netsuite_token_id,
                "token_secret": s.netsuite_token_secret,
            },
            "webhook_secret": s.webhook_secret,
        }

    def stop(self) -> None:
        self.api.stop()
        bootstrap.shutdown(self.container)
        self.sandboxes.stop()


def start_stack(
    settings: Settings, *, seed: int = 0, latency_ms: float = 0, ports: dict[str, int] | None = None
) -> Stack:
    """Start sandboxes, then the hub (migrated database, DBOS, API) wired to them."""
    from pshub.api.app import create_app
    from pshub.flows import ingest
    from pshub.sandboxes.server import free_port

    ports = ports or {}
    hub_port = ports.get("hub") or free_port()
    notify = f"http://127.0.0.1:{hub_port}/webhooks/salesforce"
    sandboxes = start_sandboxes(
        settings, notify_url=notify, seed=seed, ports=ports, latency_ms=latency_ms
    )
    try:
        wired = hub_settings(settings, sandboxes)
        c = bootstrap.build(wired)
        from pshub.flows.forecast import AnaplanSettings

        if sandboxes.anaplan is not None:
            url = sandboxes.anaplan.url
            c.extras["anaplan_settings"] = AnaplanSettings(auth_url=url, api_url=url)
        bootstrap.launch(c)
        ingest.sweep_inbox(c)
        api = ThreadedServer(create_app(c), port=hub_port, name="pshub-api").start()
    except BaseException:
        sandboxes.stop()
        raise
    return Stack(settings=wired, sandboxes=sandboxes, container=c, api=api)
