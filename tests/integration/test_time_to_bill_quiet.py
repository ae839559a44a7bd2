"""A month-end billing run quiets the other queues' polling while it drains (decision 0011)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from dbos import DBOS

from pshub.bootstrap import QUEUES, Container
from pshub.domain.sales import BillingModel
from pshub.policy import DEFAULT_POLICY_DIR
from pshub.store import repos
from tests.builders import account, opportunity
from tests.fakes import FakeCrm, FakeErp, FakeErpBilling, FakePsa
from tests.integration.test_deal_to_project_fakes import deliver, wait_result
from tests.integration.test_time_to_bill_fakes import entry, ingest, run


class WatchingErp(FakeErpBilling):
    """Notes how often a back-office queue, the billing-run queue and the posting queue poll
    at each request."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[float, float, float]] = []

    def post_billing_lines(self, lines):  # type: ignore[no-untyped-def]
        self.seen.append(
            (_interval("deal_to_project"), _interval("time_to_bill"), _interval("erp_postings"))
        )
        return super().post_billing_lines(lines)


def _interval(queue: str) -> float:
    found = DBOS.retrieve_queue(queue)
    assert found is not None
    return float(found.polling_interval_sec)


def _world(hub_factory: Any, tmp_path: Path) -> tuple[Container, WatchingErp, list[str]]:
    """Two T&M projects; posting workflows of at most 10 lines (10 lines a request, one
    request a workflow), so 30 entries make a run of several posting workflows."""
    policy = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, policy)
    rules = policy / "billing.yaml"
    text = rules.read_text()
    text = text.replace("batch_size: 100", "batch_size: 10")
    text = text.replace("batches_per_workflow: 10", "batches_per_workflow: 1")
    rules.write_text(text)
    crm, psa, erp = FakeCrm(), FakePsa(), FakeErp()
    for n in ("1", "2"):
        crm.add(
            opportunity(
                f"006Q{n}",
                acct=account(f"001Q{n}"),
                amount="500000",
                model=BillingModel.TIME_AND_MATERIALS,
                rate_card="STD-GBP",
                lines=("500000",),
            )
        )
    billing = WatchingErp()
    c = hub_factory(crm=crm, psa=psa, erp=erp, policy_dir=policy, quiet_polling_seconds=0.7)
    c.extras["erp_billing"] = billing
    workspaces = []
    for n in ("1", "2"):
        assert wait_result(deliver(c, f"006Q{n}", f"evt-q{n}").workflow_ids[0])["status"] == (
            "completed"
        )
    with c.db.session() as s:
        for project in psa.projects.values():
            workspaces.append(repos.system_ids(s, "project", project.id)["kantata"])
    return c, billing, sorted(workspaces)


def test_a_run_of_several_posting_workflows_quiets_the_other_queues_and_restores_them(
    hub_factory, tmp_path
) -> None:
    c, billing, (first, second) = _world(hub_factory, tmp_path)
    configured = float(QUEUES["deal_to_project"]["polling_interval_sec"])
    runs = float(QUEUES["time_to_bill"]["polling_interval_sec"])
    posting = float(QUEUES["erp_postings"]["polling_interval_sec"])
    ingest(c, [entry(f"a{n}", "1", project=first) for n in range(15)])
    ingest(c, [entry(f"b{n}", "1", project=second) for n in range(15)])
    result = run(c, "month-end")
    assert (result["posted"], result["rejected"]) == (30, 0)
    # While it drained, the back-office and run queues polled slowly; the posting queue never
    # changed.
    assert billing.seen and set(billing.seen) == {(0.7, 0.7, posting)}
    # Restored when the run ended.
    assert (_interval("deal_to_project"), _interval("time_to_bill")) == (configured, runs)
    # A small run (one posting workflow) leaves every queue as configured.
    billing.seen.clear()
    ingest(c, [entry("late", "1", project=first)])
    assert run(c, "small")["posted"] == 1
    assert billing.seen == [(configured, runs, posting)]


def test_a_relaunched_hub_polls_as_configured_even_if_a_run_left_it_quiet(
    hub_factory, tmp_path
) -> None:
    from pshub import bootstrap

    c, _, _ = _world(hub_factory, tmp_path)
    assert "deal_to_project" in bootstrap.quiet_queues(5.0)  # as if a run crashed mid-drain
    bootstrap.shutdown(c)
    again = hub_factory(policy_dir=tmp_path / "policy", crm=FakeCrm(), psa=FakePsa(), erp=FakeErp())
    assert again is not None
    assert _interval("deal_to_project") == float(QUEUES["deal_to_project"]["polling_interval_sec"])
