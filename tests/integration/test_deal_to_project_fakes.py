"""deal_to_project over in-memory ports: the DBOS wiring, redelivery and exceptions."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from pshub.bootstrap import Container
from pshub.flows import ingest
from pshub.flows.durable import result_of
from pshub.store import repos
from tests.builders import account, opportunity
from tests.fakes import FakeCrm, FakeErp, FakePsa


def change_event(opp_id: str, event_id: str) -> bytes:
    return json.dumps(
        {
            "schema": "test",
            "payload": {
                "ChangeEventHeader": {
                    "entityName": "Opportunity",
                    "recordIds": [opp_id],
                    "changeType": "UPDATE",
                    "changedFields": ["StageName"],
                    "commitTimestamp": 1,
                },
                "StageName": "Closed Won",
            },
            "event": {"replayId": 1, "EventUuid": event_id},
        }
    ).encode()


def deliver(c: Container, opp_id: str, event_id: str) -> ingest.Accepted:
    body = change_event(opp_id, event_id)
    return ingest.accept_salesforce(c, body, ingest.parse_salesforce(body))


def wait_result(workflow_id: str) -> Any:
    return result_of(workflow_id)


def test_a_won_deal_delivered_five_times_is_provisioned_once(hub_factory) -> None:
    crm, psa, erp = FakeCrm(), FakePsa(), FakeErp()
    parent = account("001P", "Globex Group", "GB")
    crm.add(opportunity("006A", acct=account("001A", parent="001P")), parent)
    c = hub_factory(crm=crm, psa=psa, erp=erp)
    first = deliver(c, "006A", "evt-1")
    again = [deliver(c, "006A", "evt-1") for _ in range(4)]
    result = wait_result(first.workflow_ids[0])
    assert result["status"] == "completed"
    assert all(a.duplicate and a.inbox_id == first.inbox_id for a in again)
    assert len(erp.customers) == 2 and len(erp.jobs) == 1 and len(psa.projects) == 1
    child = erp.customers[account("001A").id]
    assert child[2] == erp.customers[parent.id][2] or child[2] is not None  # parent linked
    assert crm.write_backs["006A"].erp_job_id == "500"


def test_an_unmapped_entity_becomes_an_exception_and_completes_after_the_fix(
    hub_factory, tmp_path
) -> None:
    crm, psa, erp = FakeCrm(), FakePsa(), FakeErp()
    crm.add(opportunity("006B", entity="DE", amount="55000", currency="EUR", lines=("55000",)))
    c = hub_factory(crm=crm, psa=psa, erp=erp)
    accepted = deliver(c, "006B", "evt-2")
    result = wait_result(accepted.workflow_ids[0])
    assert result["status"] == "exception"
    with c.db.session() as s:
        (exc,) = repos.list_exceptions(s)
        assert exc.reason_code == "entity.unmapped" and "'DE'" in exc.reason
        assert exc.amount == Decimal("55000") and exc.currency == "EUR"
        exc_id = exc.id
    # The fix: add the DE entity to a local policy directory, then retry.
    import shutil

    from pshub.policy import DEFAULT_POLICY_DIR

    policy = c.settings.data_dir / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, policy)
    text = (policy / "legal_entities.yaml").read_text()
    text += """  - code: DE
    name: Northwind Consulting GmbH
    country: DE
    currency: EUR
    erp_subsidiary_id: "4"
    tax_profiles:
      - {code: DE-VAT, customer_country: GB, rate: "0", erp_tax_code: "VAT:RC"}
"""
    (policy / "legal_entities.yaml").write_text(text)
    retry = ingest.retry_exception(c, exc_id)
    assert wait_result(retry["workflow_id"])["status"] == "completed"
    with c.db.session() as s:
        assert repos.get_exception(s, exc_id).status == "resolved"
    assert len(erp.jobs) == 1


def test_a_psa_outage_is_waited_out_and_nothing_is_lost(hub_factory) -> None:
    crm, psa, erp = FakeCrm(), FakePsa(), FakeErp()
    crm.add(opportunity("006C"))
    psa.down_for = 10**6
    c = hub_factory(crm=crm, psa=psa, erp=erp, step_retry_seconds=0.5)
    accepted = deliver(c, "006C", "evt-3")
    time.sleep(3)
    psa.down_for = 0
    result = wait_result(accepted.workflow_ids[0])
    assert result["status"] == "completed"
    assert psa.calls["upsert_project"] > 2
    with c.db.session() as s:
        actions = [h.action for h in repos.audit_trail(s, accepted.correlation_id)]
    assert "flow.waiting" in actions and actions[-1] == "flow.completed"
