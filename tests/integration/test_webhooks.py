"""POST /webhooks/salesforce over real HTTP: signature, freshness, validation, dedup."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from dbos import DBOS

from pshub import signing
from pshub.api.app import create_app
from pshub.flows.durable import result_of
from pshub.sandboxes.server import ThreadedServer
from pshub.store.tables import InboxEvent
from tests.builders import opportunity
from tests.fakes import FakeCrm, FakeErp, FakePsa
from tests.integration.conftest import api_key
from tests.integration.test_deal_to_project_fakes import change_event

SECRET = "pshub-demo-webhook-secret"


@pytest.fixture
def api(hub_factory):
    crm = FakeCrm()
    crm.add(opportunity("006W"))
    c = hub_factory(crm=crm, psa=FakePsa(), erp=FakeErp())
    with (
        ThreadedServer(create_app(c), name="hub-test") as server,
        httpx.Client(base_url=server.url, timeout=10, headers={"X-API-Key": api_key(c)}) as client,
    ):
        yield c, client


def post(
    client: httpx.Client,
    body: bytes,
    *,
    secret: str = SECRET,
    at: float | None = None,
    header: str | None = None,
) -> httpx.Response:
    value = header if header is not None else signing.sign(secret, int(at or time.time()), body)
    return client.post(
        "/webhooks/salesforce",
        content=body,
        headers={signing.HEADER: value, "content-type": "application/json"},
    )


def inbox(c) -> list[InboxEvent]:
    with c.db.session() as s:
        return list(s.query(InboxEvent).order_by(InboxEvent.id))


def test_unsigned_stale_and_tampered_webhooks_are_refused_and_kept(api) -> None:
    c, client = api
    body = change_event("006W", "evt-sig")
    unsigned = post(client, body, header="")
    stale = post(client, body, at=time.time() - 3600)
    wrong = post(client, body, secret="not-the-secret")
    tampered = post(
        client, body.replace(b"006W", b"006X"), header=signing.sign(SECRET, int(time.time()), body)
    )
    for response in (unsigned, stale, wrong, tampered):
        assert response.status_code == 401
        assert response.json()["field"] == signing.HEADER
    assert "missing" in unsigned.json()["reason"]
    assert "tolerance" in stale.json()["reason"]
    rows = inbox(c)
    assert [r.status for r in rows] == ["rejected"] * 4
    assert DBOS.list_workflows() == []  # nothing was applied


def test_malformed_events_get_a_422_naming_the_field(api) -> None:
    c, client = api
    cases = {
        b"{not json": "body",
        json.dumps(
            {"payload": {}, "event": {"EventUuid": "e"}}
        ).encode(): "payload.ChangeEventHeader",
        json.dumps(
            {
                "payload": {
                    "ChangeEventHeader": {
                        "entityName": "Opportunity",
                        "recordIds": [],
                        "changeType": "UPDATE",
                    },
                    "StageName": "Closed Won",
                },
                "event": {"EventUuid": "e"},
            }
        ).encode(): "payload.ChangeEventHeader.recordIds",
        change_event("006W", "e").replace(b"Closed Won", b"Prospecting"): "payload.StageName",
    }
    for body, field in cases.items():
        response = post(client, body)
        assert response.status_code == 422, body
        assert response.json()["field"] == field
        assert response.json()["inbox_id"] is not None
    assert all(r.status == "rejected" and r.error for r in inbox(c))


def test_a_rejected_event_does_not_block_a_later_valid_delivery_of_the_same_id(api) -> None:
    _, client = api
    bad = change_event("006W", "evt-same").replace(b"Closed Won", b"Closed Lost")
    assert post(client, bad).status_code == 422
    good = post(client, change_event("006W", "evt-same"))
    assert good.status_code == 202 and good.json()["status"] == "accepted"
    again = post(client, change_event("006W", "evt-same"))
    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    assert again.json()["inbox_id"] == good.json()["inbox_id"]
    (workflow_id,) = good.json()["workflow_ids"]
    assert result_of(workflow_id)["status"] == "completed"
    flow = client.get(f"/flows/{good.json()['correlation_id']}").json()
    assert flow["status"] == "completed"
    actions = [h["action"] for h in flow["hops"]]
    assert actions[0] == "inbox.accepted" and "erp.job.upserted" in actions
    assert any(ids.get("netsuite") for ids in flow["system_ids"].values())


def test_health_and_metrics_answer(api) -> None:
    _, client = api
    assert client.get("/healthz").json()["status"] == "ok"
    text = client.get("/metrics").text
    from prometheus_client.parser import text_string_to_metric_families

    names = {f.name for f in text_string_to_metric_families(text)}
    assert "pshub_flow_runs" in names and "pshub_webhooks" in names
