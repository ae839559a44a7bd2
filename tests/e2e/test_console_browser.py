"""The console in a real browser (Playwright driving Debian's headless Chromium).

An operator logs in, finds the exception holding back EUR 55,000 by its amount, maps the
missing legal entity, retries, and sees the deal's flow complete. A viewer gets no buttons.
Screenshots of the main pages go to ``test-artifacts/console/``.

Skips when ``/usr/bin/chromium`` is absent, except under ``CI=true`` where it must run
(``scripts/ensure-chromium.sh`` installs it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pshub import bootstrap
from pshub.api.app import create_app
from pshub.console import accounts
from pshub.sandboxes.server import ThreadedServer
from tests.builders import opportunity
from tests.fakes import FakeCrm, FakeErp, FakePsa
from tests.integration.conftest import hub_settings_for
from tests.integration.test_deal_to_project_fakes import deliver, wait_result

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but /usr/bin/chromium is missing: run scripts/ensure-chromium.sh")
    pytest.skip("Chromium is not installed (scripts/ensure-chromium.sh)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[str, bootstrap.Container]]:
    crm = FakeCrm()
    crm.add(opportunity("006DE", entity="DE", amount="55000", currency="EUR", lines=("55000",)))
    crm.add(opportunity("006BIG", entity="XX", amount="990000", currency="USD", lines=("990000",)))
    settings = hub_settings_for(f"sqlite:///{tmp_path / 'hub.sqlite'}", tmp_path / "hub")
    c = bootstrap.build(settings, crm=crm, psa=FakePsa(), erp=FakeErp())
    bootstrap.launch(c)
    try:
        # FakePsa numbers tasks per project from t0, so only one deal may reach the PSA here.
        for opp, event in (("006DE", "e1"), ("006BIG", "e2")):
            wait_result(deliver(c, opp, event).workflow_ids[0])
        accounts.create_user(c, "olivia", "operator-pw", "operator", actor="test")
        accounts.create_user(c, "victor", "viewer-pw", "viewer", actor="test")
        with ThreadedServer(create_app(c), name="console-e2e") as server:
            yield server.url, c
    finally:
        bootstrap.shutdown(c)


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Any, url: str, user: str, password: str) -> None:
    page.goto(f"{url}/console/")
    assert "/console/login" in page.url
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/console/")


def test_an_operator_finds_an_exception_by_amount_fixes_the_mapping_and_the_flow_completes(
    hub, browser
) -> None:
    url, _ = hub
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, url, "olivia", "operator-pw")
    shot(page, "01-overview")
    page.get_by_role("link", name="Exceptions", exact=True).click()
    # The largest amount ranks first; the operator narrows to the one of 55,000.
    first_amount = page.locator("table.grid tbody tr td.num a").first.inner_text()
    assert "990,000.00 USD" in first_amount
    page.get_by_label("Min amount").fill("55000")
    page.get_by_label("Max amount").fill("55000")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 1
    shot(page, "02-exceptions-by-amount")
    rows.first.get_by_role("link", name="55,000.00 EUR").click()
    assert "entity.unmapped" in page.content()
    form = page.locator("form[action$='/map-entity']")
    form.get_by_label("Legal name").fill("Northwind Consulting GmbH")
    form.get_by_label("Country (ISO)").fill("DE")
    form.get_by_label("ERP subsidiary id").fill("4")
    form.get_by_label("Customer country").fill("GB")
    form.get_by_label("ERP tax code").fill("VAT:RC")
    shot(page, "03-exception-fix-mapping")
    form.get_by_role("button", name="Save mapping and retry").click()
    assert "Legal entity DE mapped; retried 1" in page.locator(".flash").inner_text()
    deadline = time.monotonic() + 60
    while "resolved" not in page.locator("h1 .pill").inner_text():
        assert time.monotonic() < deadline, "the retried flow did not complete"
        time.sleep(0.5)
        page.reload()
    page.get_by_role("link", name="deal:salesforce:006DE").click()
    runs = page.locator("table.grid").first.inner_text()
    assert "completed" in runs and "exception" in runs  # attempt 1 stopped, attempt 2 done
    assert "netsuite" in page.locator("ol.chain").inner_text()
    shot(page, "04-lineage")
    for name in ("flows", "dead-letters", "connectors", "kpis", "audit"):
        page.goto(f"{url}/console/{name}")
        shot(page, f"05-{name}")
    page.goto(f"{url}/console/audit?actor=olivia")
    audit = page.locator("table.grid").inner_text()
    assert "policy.legal_entity.saved" in audit and "exception.retry" in audit


def test_a_viewer_sees_the_exception_but_no_action_buttons(hub, browser) -> None:
    url, _ = hub
    page = browser.new_page()
    log_in(page, url, "victor", "viewer-pw")
    page.goto(f"{url}/console/exceptions")
    assert page.get_by_role("button", name="Retry selected").count() == 0
    page.locator("table.grid tbody tr td.num a").first.click()
    assert page.get_by_role("button", name="Retry now").count() == 0
    shot(page, "06-viewer-exception")
