"""Closed-won change events, relayed as signed webhooks, at least once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pshub import signing
from pshub.sandboxes.base import SandboxState

from .support import NOTIFY_SECRET, Receiver, Sandbox

DEAL = {
    "Name": "Data platform rollout",
    "StageName": "Proposal/Price Quote",
    "CloseDate": "2025-06-30",
    "Amount": "240000.00",
    "CurrencyIsoCode": "EUR",
}


@pytest.fixture
def notifying(start_sandbox: Callable[..., Sandbox], receiver: Receiver) -> Sandbox:
    return start_sandbox(notify_url=receiver.url, notify_secret=NOTIFY_SECRET)


def _event(body: bytes) -> dict:  # type: ignore[type-arg]
    return dict(json.loads(body))


def test_a_deal_moved_to_closed_won_is_notified_signed_to_the_hub(
    notifying: Sandbox, receiver: Receiver
) -> None:
    with notifying.connector() as conn:
        opp = conn.create_opportunity(DEAL)
        conn.update_opportunity(opp, {"StageName": "Closed Won"})

    (delivery,) = receiver.wait_for(1)
    stamp = signing.verify(
        NOTIFY_SECRET,
        delivery.headers[signing.HEADER.lower()],
        delivery.body,
        now=time.time(),
        tolerance=300,
    )
    event = _event(delivery.body)
    header = event["payload"]["ChangeEventHeader"]
    assert stamp > 0
    assert header["entityName"] == "Opportunity"
    assert header["recordIds"] == [opp]
    assert header["changeType"] == "UPDATE"
    assert "StageName" in header["changedFields"]
    assert "LastModifiedDate" in header["changedFields"]
    assert header["sequenceNumber"] == 1
    assert header["changeOrigin"] == "com/salesforce/api/rest/59.0"
    assert isinstance(header["commitTimestamp"], int)
    assert event["payload"]["StageName"] == "Closed Won"
    assert event["event"]["replayId"] == 1
    assert event["event"]["EventUuid"]
    assert event["schema"]


def test_a_deal_created_closed_won_is_notified_as_a_create(
    notifying: Sandbox, receiver: Receiver
) -> None:
    with notifying.connector() as conn:
        opp = conn.create_opportunity({**DEAL, "StageName": "Closed Won"})

    (delivery,) = receiver.wait_for(1)
    payload = _event(delivery.body)["payload"]
    assert payload["ChangeEventHeader"]["changeType"] == "CREATE"
    assert payload["ChangeEventHeader"]["changedFields"] == []
    assert payload["ChangeEventHeader"]["recordIds"] == [opp]
    assert payload["Amount"] == 240000  # a JSON number, written exactly
    assert payload["Name"] == DEAL["Name"]


def test_other_changes_are_not_relayed(notifying: Sandbox, receiver: Receiver) -> None:
    with notifying.connector() as conn:
        opp = conn.create_opportunity(DEAL)
        conn.update_opportunity(opp, {"Amount": "250000.00"})
        conn.update_opportunity(opp, {"StageName": "Closed Won"})
        conn.update_opportunity(opp, {"Amount": "260000.00"})  # already won: no new event

    receiver.wait_for(1)
    events = notifying.http.get("/_sandbox/events").json()
    assert len(events) == 1


def test_redelivering_an_event_sends_the_same_event_uuid_again(
    notifying: Sandbox, receiver: Receiver
) -> None:
    with notifying.connector() as conn:
        conn.create_opportunity({**DEAL, "StageName": "Closed Won"})
    receiver.wait_for(1)

    answers = [notifying.http.post("/_sandbox/events/1/redeliver").json() for _ in range(4)]

    deliveries = receiver.wait_for(5)
    uuids = {_event(d.body)["event"]["EventUuid"] for d in deliveries}
    assert len(uuids) == 1
    assert all(a["status"] == "delivered" and a["last_status"] == 200 for a in answers)
    assert answers[-1]["deliveries"] == 5


def test_a_refused_delivery_is_retried_until_the_hub_accepts_it(
    notifying: Sandbox, receiver: Receiver
) -> None:
    receiver.status = 503
    with notifying.connector() as conn:
        conn.create_opportunity({**DEAL, "StageName": "Closed Won"})
    receiver.wait_for(2)  # refused once, then retried

    receiver.status = 200
    notifying.http.post("/_sandbox/events/1/redeliver")

    (event,) = notifying.http.get("/_sandbox/events").json()
    assert event["status"] == "delivered"
    assert event["attempts"] >= 3


def test_pending_events_are_delivered_after_a_restart(
    start_sandbox: Callable[..., Sandbox], receiver: Receiver, tmp_path: Path
) -> None:
    path = tmp_path / "salesforce.sqlite"
    first = start_sandbox(state=SandboxState(path))  # no hub to notify yet
    with first.connector() as conn:
        opp = conn.create_opportunity({**DEAL, "StageName": "Closed Won"})
    first.http.close()
    first.server.stop()

    start_sandbox(state=SandboxState(path), notify_url=receiver.url, notify_secret=NOTIFY_SECRET)

    (delivery,) = receiver.wait_for(1)
    assert _event(delivery.body)["payload"]["ChangeEventHeader"]["recordIds"] == [opp]


def test_the_notify_target_can_be_set_at_runtime(sandbox: Sandbox, receiver: Receiver) -> None:
    with sandbox.connector() as conn:
        conn.create_opportunity({**DEAL, "StageName": "Closed Won"})
    (pending,) = sandbox.http.get("/_sandbox/events").json()

    sandbox.http.put("/_sandbox/notify", json={"url": receiver.url, "secret": "rotated"})

    (delivery,) = receiver.wait_for(1)
    signing.verify(
        "rotated",
        delivery.headers[signing.HEADER.lower()],
        delivery.body,
        now=time.time(),
        tolerance=300,
    )
    assert pending["status"] == "pending"


def test_connector_reads_stay_decimal_in_the_event_amount(
    notifying: Sandbox, receiver: Receiver
) -> None:
    with notifying.connector() as conn:
        conn.create_opportunity({**DEAL, "Amount": "1234567.89", "StageName": "Closed Won"})
    (delivery,) = receiver.wait_for(1)

    payload = json.loads(delivery.body, parse_float=str)["payload"]

    assert payload["Amount"] == "1234567.89"
