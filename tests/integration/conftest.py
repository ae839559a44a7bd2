"""Integration fixtures: a hub (container + DBOS) on the test's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pshub import bootstrap
from pshub.settings import Settings

HubFactory = Callable[..., bootstrap.Container]


def hub_settings_for(db_url: str, data_dir: Path, **overrides: Any) -> Settings:
    dbos_url = None
    if db_url.startswith("sqlite"):
        dbos_url = f"sqlite:///{data_dir / 'dbos.sqlite'}"
    values: dict[str, Any] = dict(
        data_dir=data_dir,
        database_url=db_url,
        dbos_database_url=dbos_url,
        step_retry_seconds=2,
        outage_patience_seconds=120,
        log_level="WARNING",
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def hub_factory(db_url: str, tmp_path: Path) -> Iterator[HubFactory]:
    """Build and launch a hub: ``hub_factory(crm=..., psa=..., erp=..., **settings)``."""
    built: list[bootstrap.Container] = []

    def make(**kwargs: Any) -> bootstrap.Container:
        ports = {k: kwargs.pop(k) for k in ("crm", "psa", "erp") if k in kwargs}
        settings = hub_settings_for(db_url, tmp_path / "hub", **kwargs)
        c = bootstrap.build(settings, **ports)
        bootstrap.launch(c)
        built.append(c)
        return c

    yield make
    for c in built:
        bootstrap.shutdown(c)


def api_key(c: bootstrap.Container) -> str:
    """An API key with every scope for tests (created once per hub)."""
    from pshub.console.accounts import create_api_client

    key = c.extras.get("_test_api_key")
    if key is None:
        key = create_api_client(
            c,
            "tests",
            ["read", "operate", "admin"],
            actor="tests",
            rate_per_minute=100_000,
            burst=10_000,
        )
        c.extras["_test_api_key"] = key
    return str(key)


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[tuple[Any, dict[str, str], int]]:
    """Sandboxes in this process and the environment for a ``pshub serve`` subprocess hub."""
    import os

    from pshub.sandboxes.server import free_port
    from pshub.stack import start_sandboxes

    settings = hub_settings_for(db_url, tmp_path / "hub")
    port = free_port()
    boxes = start_sandboxes(settings, notify_url=f"http://127.0.0.1:{port}/webhooks/salesforce")
    env = {
        **os.environ,
        "PSHUB_DATA_DIR": str(settings.data_dir),
        "PSHUB_DATABASE_URL": settings.resolved_database_url(),
        "PSHUB_DBOS_DATABASE_URL": settings.resolved_dbos_url(),
        "PSHUB_SALESFORCE_URL": boxes.salesforce.url,
        "PSHUB_SALESFORCE_CA_FILE": str(boxes.ca_file),
        "PSHUB_KANTATA_URL": boxes.kantata.url,
        "PSHUB_NETSUITE_URL": boxes.netsuite.url,
        "PSHUB_STEP_RETRY_SECONDS": "2",
        "PSHUB_BILLING_INTERVAL_SECONDS": "0",
    }
    try:
        yield boxes, env, port
    finally:
        boxes.stop()
