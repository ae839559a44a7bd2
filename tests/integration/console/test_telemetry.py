"""Telemetry: /metrics parses as Prometheus text, logs are JSON with the correlation id, and
one deal's trace has spans in the hub and in each vendor sandbox it called."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from pshub import bootstrap, observability
from pshub.api.app import create_app
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata.app import create_app as kantata_app
from pshub.sandboxes.netsuite.app import create_app as netsuite_app
from pshub.sandboxes.salesforce.app import create_app as salesforce_app
from pshub.sandboxes.server import ThreadedServer, free_port
from pshub.sandboxes.tls import ensure_tls
from pshub.stack import SUBSIDIARIES, Sandboxes, hub_settings
from tests.integration.conftest import hub_settings_for
from tests.integration.console.conftest import Console
from tests.integration.test_deal_to_project_fakes import deliver, wait_result
from tests.integration.test_deal_to_project_http import ACCOUNT, LINES, deal


def test_metrics_parse_as_prometheus_text_with_flow_and_queue_families(
    console: Console,
) -> None:
    accepted = deliver(console.c, "006OK", "evt-m")
    wait_result(accepted.workflow_ids[0])
    with console.client() as client:
        text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in (
        "pshub_flow_runs_finished",
        "pshub_flow_run_seconds",
        "pshub_queue_depth",
        "pshub_exceptions_open",
        "pshub_vendor_calls",
        "pshub_vendor_call_seconds",
    ):
        assert name in families, name
    finished = {
        (s.labels["flow"], s.labels["status"]): s.value
        for s in families["pshub_flow_runs_finished"].samples
        if s.name.endswith("_total")
    }
    assert finished[("deal_to_project", "completed")] >= 1


def test_metrics_can_require_a_token(console: Console) -> None:
    from pshub.api.security import SecuritySettings

    app = create_app(console.c)
    app.state.security.settings = SecuritySettings(metrics_token="scrape-me")
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/metrics").status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert ok.status_code == 200


def test_logs_are_json_lines_carrying_the_correlation_id(console: Console) -> None:
    out = io.StringIO()
    observability.configure_logging("INFO", out)
    try:
        key = console.api_key(["read", "operate"])
        exc = deliver(console.c, "006DE", "evt-log")
        exc_id = wait_result(exc.workflow_ids[0])["exception_id"]
        with console.client() as client:
            client.post(
                f"/exceptions/{exc_id}/resolve", json={"note": "n"}, headers={"X-API-Key": key}
            )
    finally:
        observability.configure_logging("WARNING")
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    (resolved,) = [line for line in lines if line["event"] == "exception.resolved"]
    assert resolved["correlation_id"] == "deal:salesforce:006DE"
    assert resolved["trace_id"] == f"{observability.trace_id_for('deal:salesforce:006DE'):032x}"


def test_traceparent_headers_round_trip() -> None:
    header = observability.traceparent(0xABC, 0x123)
    ctx = observability.parse_traceparent(header)
    assert ctx is not None and ctx.trace_id == 0xABC and ctx.span_id == 0x123
    assert observability.parse_traceparent("garbage") is None
    assert observability.parse_traceparent(f"00-{'0' * 32}-{'1' * 16}-01") is None


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[Any, InMemorySpanExporter]]:
    """Sandboxes and hub as in ``pshub.stack``, each sandbox continuing incoming traces."""
    exporter = InMemorySpanExporter()
    observability.setup_tracing(exporter)
    settings = hub_settings_for(
        f"sqlite:///{tmp_path / 'hub.sqlite'}", tmp_path / "hub", step_retry_seconds=1
    )
    hub_port = free_port()
    tls = ensure_tls(settings.data_dir / "tls")
    states = [SandboxState(tmp_path / f"{n}.sqlite") for n in ("sf", "kantata", "netsuite")]
    sf = salesforce_app(
        states[0],
        client_id=settings.salesforce_client_id,
        client_secret=settings.salesforce_client_secret,
        notify_url=f"http://127.0.0.1:{hub_port}/webhooks/salesforce",
        notify_secret=settings.webhook_secret,
    )
    kt = kantata_app(states[1], tokens=frozenset({settings.kantata_token}))
    ns = netsuite_app(
        states[2],
        account_id=settings.netsuite_account_id,
        consumer_key=settings.netsuite_consumer_key,
        consumer_secret=settings.netsuite_consumer_secret,
        token_id=settings.netsuite_token_id,
        token_secret=settings.netsuite_token_secret,
        subsidiaries=SUBSIDIARIES,
    )
    trace = observability.TraceMiddleware
    sandboxes = Sandboxes(
        salesforce=ThreadedServer(
            trace(sf, "salesforce-sandbox"), certfile=tls.cert, keyfile=tls.key
        ).start(),
        kantata=ThreadedServer(trace(kt, "kantata-sandbox")).start(),
        netsuite=ThreadedServer(trace(ns, "netsuite-sandbox")).start(),
        states=states,
        ca_file=tls.ca,
    )
    c = bootstrap.build(hub_settings(settings, sandboxes))
    bootstrap.launch(c)
    api = ThreadedServer(create_app(c), port=hub_port).start()
    try:
        yield c, exporter
    finally:
        api.stop()
        bootstrap.shutdown(c)
        sandboxes.stop()
        observability.setup_tracing(None)


def test_one_deals_trace_has_spans_in_the_hub_and_every_sandbox(traced) -> None:
    c, exporter = traced
    crm: Any = c.crm
    account_id = crm.create_account(ACCOUNT)
    opp_id = crm.create_opportunity(deal(account_id), LINES)
    crm.update_opportunity(opp_id, {"StageName": "Closed Won", "Probability": 100})
    cid = f"deal:salesforce:{opp_id}"
    trace_id = observability.trace_id_for(cid)
    deadline = time.monotonic() + 90
    services: set[str] = set()
    while time.monotonic() < deadline:
        spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]
        services = {str(s.resource.attributes["service.name"]) for s in spans}
        if {"kantata-sandbox", "netsuite-sandbox", "salesforce-sandbox"} <= services:
            break
        time.sleep(0.3)
    assert {"pshub", "kantata-sandbox", "netsuite-sandbox", "salesforce-sandbox"} <= services
    hub_ids = {s.context.span_id for s in spans if s.resource.attributes["service.name"] == "pshub"}
    sandbox_parents = {
        s.parent.span_id
        for s in spans
        if s.resource.attributes["service.name"] != "pshub" and s.parent is not None
    }
    assert sandbox_parents & hub_ids  # a sandbox span is a child of a hub client span
